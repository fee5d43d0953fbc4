-- The ceiling: one durable single-row insert per transaction into a plain table.
insert into bench.ceiling (payload) values ('x');
