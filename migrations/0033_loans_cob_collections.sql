-- Why: placeholder for the loans_cob_collections tables (issue 16); replaced by its owner in this change.
SELECT 1;
