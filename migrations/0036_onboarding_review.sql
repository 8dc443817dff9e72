-- Why: placeholder for the onboarding_review tables (issue 17); replaced by its owner in this change.
SELECT 1;
