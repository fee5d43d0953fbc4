-- api.get_availability for one service and one day. Defined with -D: service, day (YYYY-MM-DD).
select count(*) from api.get_availability(:service::uuid, :day::date);
