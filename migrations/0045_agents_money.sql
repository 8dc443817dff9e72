-- Why: placeholder for the agents module's agents_money area (kept so migration numbers stay in order); it changes nothing.
SELECT 1;
