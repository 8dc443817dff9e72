-- Why: placeholder for the onboarding_didit tables (issue 17); replaced by its owner in this change.
SELECT 1;
