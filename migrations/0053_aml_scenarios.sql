-- Why: placeholder for the aml module's scenarios area (kept so migration numbers stay in order); it changes nothing.
SELECT 1;
