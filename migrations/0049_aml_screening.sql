-- Why: placeholder for the aml module's screening area (kept so migration numbers stay in order); it changes nothing.
SELECT 1;
