-- Why: placeholder for the aml module's realtime area (kept so migration numbers stay in order); it changes nothing.
SELECT 1;
