-- Why: placeholder for the aml module's cases area (kept so migration numbers stay in order); it changes nothing.
SELECT 1;
