-- Why: reserved for work in progress in this session; it changes nothing yet.
SELECT 1;
