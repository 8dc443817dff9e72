-- Why: placeholder for the agents module's agents_network area (kept so migration numbers stay in order); it changes nothing.
SELECT 1;
