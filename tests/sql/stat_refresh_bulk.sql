-- The worker's pass (db/definitions/statistics.sql, stat_refresh_bulk): when
-- the changed patients are taken as a bulk change and everyone is computed
-- again. Expected output: expected/<this>.out.
\set ON_ERROR_STOP 1
\pset footer off
SELECT what, stat_refresh_bulk(changed, bulk_min, rolled) AS everyone
  FROM (VALUES ('none changed, nothing rolled up', 0, 2000, 0),
               ('a few of many', 12, 2000, 5000000),
               ('under the floor, though half of them', 1999, 2000, 3998),
               ('at the floor and a fiftieth', 2000, 2000, 100000),
               ('at the floor, under a fiftieth', 2000, 2000, 100001),
               ('a county imported into a province', 4000000, 2000, 969009),
               ('10,000 of 5,000,000', 10000, 2000, 5000000),
               ('100,000 of 5,000,000', 100000, 2000, 5000000),
               ('the floor lowered to one', 1, 1, 40),
               ('the first patients of a new register', 2500, 2000, 0))
       AS t(what, changed, bulk_min, rolled);
