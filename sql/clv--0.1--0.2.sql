-- clv 0.1 -> 0.2: ALTER EXTENSION clv UPDATE TO '0.2'.
--
-- Every object that 0.2 adds or changes relative to the released 0.1
-- (sql/clv--0.1.sql, frozen) goes here, so that an updated database has
-- exactly the objects of a fresh 0.2 install (sql/ext/*.sql assembled into
-- clv--0.2.sql); test/t/080_upgrade.pl compares the two.  New functions:
-- CREATE FUNCTION; changed bodies, volatility or options: CREATE OR REPLACE
-- FUNCTION (or ALTER FUNCTION); changed signatures or return types: DROP
-- then CREATE, and the same GRANTs and COMMENTs as the fresh script.
-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION clv UPDATE TO '0.2'" to load this file. \quit

-- Nothing yet: 0.2 has no new or changed objects so far.
