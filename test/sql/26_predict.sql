-- Prediction functions with inline params: published values, extreme rows,
-- NULL handling and bad input.
CREATE TABLE pred_params (model text PRIMARY KEY, params jsonb);
INSERT INTO pred_params VALUES
 ('bgnbd', '{"transaction_model": "bgnbd", "r": 0.2425945, "alpha": 4.4136019, "a": 0.7929199, "b": 2.4258881,
             "spend_model": "gamma_gamma", "p": 6.2496, "q": 3.7442, "gamma": 15.4435}'),
 ('bgnbd3', '{"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}'),
 ('pareto_nbd', '{"r": 0.5533971432566355, "alpha": 10.580198543474351, "s": 0.6060624971176619, "beta": 11.656223670707698}'),
 ('mbgnbd', '{"transaction_model": "mbgnbd", "r": 0.2425945, "alpha": 4.4136019, "a": 0.7929199, "b": 2.4258881}'),
 ('bgbb', '{"alpha": 1.2035, "beta": 0.7497, "gamma": 0.6567, "delta": 2.7834}');

-- FHL 2005: customer (2, 30.43, 38.86) expects 1.226 purchases in 39 weeks
SELECT round(clv_expected_purchases(params, 2, 30.43, 38.86, 39)::numeric, 3) AS e39
FROM pred_params WHERE model = 'bgnbd';
-- E[X(t)]: published 0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576
-- (the exact value at t = 78 is 1.85796, see test/c/math_check.c)
SELECT t, round(clv_expected_purchases_new(params, t)::numeric, 4) AS ext
FROM pred_params, unnest(ARRAY[0.1429, 1, 3, 31.8571, 32, 78]) AS t
WHERE model = 'bgnbd' ORDER BY t;
-- P(X(39) = 0) = 0.5737864
SELECT round(clv_purchase_probability(params, 0, 39)::numeric, 7) AS p0
FROM pred_params WHERE model = 'bgnbd3';
-- Pareto/NBD: customer (26, 30.86, 31): 25.46 purchases in 52 weeks, P(alive) 0.9979
SELECT round(clv_expected_purchases(params, 26, 30.86, 31, 52)::numeric, 2) AS e52,
	   round(clv_p_alive(params, 26, 30.86, 31)::numeric, 4) AS p_alive
FROM pred_params WHERE model = 'pareto_nbd';
-- BG/BB P(alive) one period ahead, n = 6: 0.11, 0.59, 0.93
SELECT x, tx, round(clv_p_alive(params, x, tx, 6)::numeric, 2) AS p_alive
FROM pred_params, (VALUES (0, 0), (2, 4), (6, 6)) AS v(x, tx)
WHERE model = 'bgbb' ORDER BY x;
-- BG/BB expected transactions in the next 5 years for (3, 5, 6)
SELECT round(clv_expected_purchases(params, 3, 5, 6, 5)::numeric, 4) AS e5
FROM pred_params WHERE model = 'bgbb';

-- BG/NBD and MBG/NBD at a = 1 exactly (clv_train stores it when nobody
-- repeats): the formulas are 0/0 there, the finite a -> 1 limit is returned
-- (was 22003).  Values from test/oracle/bg_a_near_1.py's 90-digit oracle:
-- BG/NBD 0.3363596570, 0.0543458258, 0.4098416351;
-- MBG/NBD 0.3663315948, 0.0319242019, 0.3052428067.
SELECT m,
	   round(clv_expected_purchases(p, 2, 30, 38, 10)::numeric, 10) AS e_x2,
	   round(clv_expected_purchases(p, 0, 0, 38, 10)::numeric, 10) AS e_x0,
	   round(clv_expected_purchases_new(p, 10)::numeric, 10) AS e_new
FROM (VALUES ('bgnbd', '{"r":0.24,"alpha":4.4,"a":1,"b":2.4}'::jsonb),
			 ('mbgnbd', '{"transaction_model":"mbgnbd","r":0.24,"alpha":4.4,"a":1,"b":2.4}'::jsonb)) AS v(m, p)
ORDER BY m;
-- and continuously so: at a = 1 +- 1e-12 the values move by about 1e-13
SELECT m, d,
	   abs(clv_expected_purchases(jsonb_set(p, '{a}', to_jsonb(1 + d)), 2, 30, 38, 10) -
		   clv_expected_purchases(p, 2, 30, 38, 10)) < 1e-11 AS e_x2,
	   abs(clv_expected_purchases_new(jsonb_set(p, '{a}', to_jsonb(1 + d)), 10) -
		   clv_expected_purchases_new(p, 10)) < 1e-11 AS e_new
FROM (VALUES ('bgnbd', '{"r":0.24,"alpha":4.4,"a":1,"b":2.4}'::jsonb),
			 ('mbgnbd', '{"transaction_model":"mbgnbd","r":0.24,"alpha":4.4,"a":1,"b":2.4}'::jsonb)) AS v(m, p),
	 unnest(ARRAY[-1e-12, 1e-12]::float8[]) AS d
ORDER BY m, d;

-- P(X(t) = n) is a distribution whose mean is E[X(t)], for every model
SELECT model,
	   round(sum(clv_purchase_probability(params, n, 10))::numeric, 6) AS total,
	   round((sum(n * clv_purchase_probability(params, n, 10)) -
			  clv_expected_purchases_new(params, 10))::numeric, 6) AS mean_minus_e
FROM pred_params, generate_series(0, 200) AS n
WHERE model <> 'bgnbd3'
GROUP BY model, params ORDER BY model;

-- clv_predict: composite; spend falls back to the population mean
-- p*gamma/(q-1) when monetary_value is NULL or frequency is 0
SELECT round((c).expected_purchases::numeric, 10) AS expected_purchases,
	   round((c).p_alive::numeric, 10) AS p_alive,
	   round((c).expected_spend::numeric, 10) AS expected_spend,
	   round((c).clv::numeric, 10) AS clv
FROM (SELECT clv_predict(params, 2, 30.43, 38.86, 22.35, 39) AS c
	  FROM pred_params WHERE model = 'bgnbd') s;
SELECT round((c).expected_spend::numeric, 4) AS spend_null,
	   round((6.2496 * 15.4435 / (3.7442 - 1))::numeric, 4) AS population_mean
FROM (SELECT clv_predict(params, 2, 30.43, 38.86, NULL, 39) AS c
	  FROM pred_params WHERE model = 'bgnbd') s;
SELECT round(clv_expected_spend(params, 0, 100)::numeric, 4) AS x0,
	   round(clv_expected_spend(params, 2, 22.35)::numeric, 4) AS x2
FROM pred_params WHERE model = 'bgnbd';
-- clv = margin * spend * expected purchases without discounting;
-- discounting lowers it; the value is consistent with clv_predict
SELECT abs(clv_value(params, 2, 30.43, 38.86, 22.35, 39, 0, 0.3) -
		   0.3 * clv_expected_spend(params, 2, 22.35) *
		   clv_expected_purchases(params, 2, 30.43, 38.86, 39)) < 1e-9 AS undiscounted,
	   clv_value(params, 2, 30.43, 38.86, 22.35, 39, 0.01) <
	   clv_value(params, 2, 30.43, 38.86, 22.35, 39) AS discount_lowers,
	   abs(clv_value(params, 2, 30.43, 38.86, 22.35, 39, 0.01) -
		   (clv_predict(params, 2, 30.43, 38.86, 22.35, 39, 0.01)).clv) < 1e-12 AS same
FROM pred_params WHERE model = 'bgnbd';
-- a horizon of 0.5 periods discounts by one period
SELECT abs(clv_value(params, 2, 30.43, 38.86, 22.35, 0.5, 0.1) -
		   clv_value(params, 2, 30.43, 38.86, 22.35, 0.5) / 1.1) < 1e-12 AS half_period
FROM pred_params WHERE model = 'bgnbd';
-- transaction model only: spend parts are NULL
SELECT (clv_predict(params, 1, 2, 3, 10, 4)).expected_spend IS NULL AS no_spend
FROM pred_params WHERE model = 'pareto_nbd';
-- NULL inputs
SELECT clv_predict(params, NULL, 1, 2, 3, 4) IS NULL AS null_freq,
	   clv_p_alive(params, 1, NULL, 2) IS NULL AS null_rec
FROM pred_params WHERE model = 'bgnbd';

-- heavy and extreme rows stay finite, P(alive) in [0, 1]
SELECT model, count(*) AS rows,
	   bool_and(p BETWEEN 0 AND 1) AS p_alive_ok,
	   bool_and(e >= 0 AND e < 'Infinity') AS expected_ok,
	   bool_and(v >= 0 AND v < 'Infinity') AS discounted_ok
FROM (SELECT model,
			 clv_p_alive(params, x, tx, tt) AS p,
			 clv_expected_purchases(params, x, tx, tt, 52) AS e,
			 clv_discounted_purchases_check AS v
	  FROM pred_params,
		   (VALUES (221, 103.43, 103.57), (161, 94.71, 98), (204, 98.57, 99.43),
				   (10000, 9999, 10000), (10000, 10, 10000), (10000, 10000, 10000),
				   (0, 0, 10000), (1, 0.01, 10000), (5000, 1, 1), (10000, 0.5, 10000)) AS r(x, tx, tt),
		   LATERAL (SELECT clv_expected_purchases(params, x, tx, tt, 10000)
				   AS clv_discounted_purchases_check) d
	  WHERE model IN ('bgnbd', 'pareto_nbd', 'mbgnbd')) s
GROUP BY model ORDER BY model;
-- Pareto/NBD heavy rows: values
SELECT x, tx, tt, round(clv_p_alive(params, x, tx, tt)::numeric, 6) AS p_alive,
	   round(clv_expected_purchases(params, x, tx, tt, 52)::numeric, 4) AS e52
FROM pred_params,
	 (VALUES (221, 103.43, 103.57), (161, 94.71, 98), (204, 98.57, 99.43)) AS r(x, tx, tt)
WHERE model = 'pareto_nbd' ORDER BY x;

-- bad input: SQLSTATE and message
\set VERBOSITY default
SELECT clv_p_alive('{"r": 1, "alpha": 1, "a": 1, "bb": 1}'::jsonb, 1, 1, 2);
CREATE FUNCTION pred_error(q text) RETURNS text LANGUAGE plpgsql AS $f$
BEGIN
	EXECUTE q;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END
$f$;
SELECT q, pred_error(q) FROM (VALUES
 ($$SELECT clv_p_alive('{"r": 1, "alpha": 1, "a": 1, "b": 1, "z": 1}', 1, 1, 2)$$),
 ($$SELECT clv_p_alive('{"transaction_model": "bgnbd", "r": 1, "alpha": 1, "a": 1}', 1, 1, 2)$$),
 ($$SELECT clv_p_alive('{"transaction_model": "nbd", "r": 1}', 1, 1, 2)$$),
 ($$SELECT clv_p_alive('{"r": -1, "alpha": 1, "a": 1, "b": 1}', 1, 1, 2)$$),
 ($$SELECT clv_p_alive('{"r": "x", "alpha": 1, "a": 1, "b": 1}', 1, 1, 2)$$),
 ($$SELECT clv_p_alive('[1, 2]', 1, 1, 2)$$),
 ($$SELECT clv_p_alive('{}', 1, 1, 2)$$),
 ($$SELECT clv_p_alive('{"p": 1, "q": 2, "gamma": 3}', 1, 1, 2)$$),
 ($$SELECT clv_expected_spend('{"r": 1, "alpha": 1, "a": 1, "b": 1}', 1, 2)$$),
 ($$SELECT clv_p_alive('{"alpha": 1, "beta": 1, "gamma": 1, "delta": 1, "p": 1, "q": 2}', 1, 1, 2)$$),
 ($$SELECT clv_p_alive('{"r": 1, "alpha": 1, "a": 1, "b": 1}', -1, 1, 2)$$),
 ($$SELECT clv_p_alive('{"r": 1, "alpha": 1, "a": 1, "b": 1}', 1, 3, 2)$$),
 ($$SELECT clv_p_alive('{"r": 0.5, "alpha": 10, "s": 0.6, "beta": 11}', 254, 97.43, 97.29)$$),
 ($$SELECT clv_p_alive('{"r": 1, "alpha": 1, "a": 1, "b": 1}', 1, 'NaN', 2)$$),
 ($$SELECT clv_expected_purchases('{"r": 1, "alpha": 1, "a": 1, "b": 1}', 1, 1, 2, -1)$$),
 ($$SELECT clv_expected_purchases('{"r": 1, "alpha": 1, "a": 1, "b": 1}', 1, 1, 2, 'Infinity')$$),
 ($$SELECT clv_purchase_probability('{"r": 1, "alpha": 1, "a": 1, "b": 1}', -1, 2)$$),
 ($$SELECT clv_p_alive('{"alpha": 1, "beta": 1, "gamma": 1, "delta": 1}', 1.5, 2, 3)$$),
 ($$SELECT clv_value('{"r": 1, "alpha": 1, "a": 2, "b": 1}', 1, 1, 2, 10, 5)$$),
 ($$SELECT clv_value('{"r": 1, "alpha": 1, "a": 2, "b": 1, "p": 1, "q": 2, "gamma": 1}', 1, 1, 2, 10, 5, -1)$$),
 ($$SELECT clv_expected_spend('{"p": 1, "q": 0.5, "gamma": 1}', 0, 10)$$),
 ($$SELECT clv_expected_spend('{"p": 1, "q": 2, "gamma": 1}', 2, -10)$$)
) AS v(q);

-- Non-finite results are 22003 naming the quantity and the inputs: these
-- returned Infinity or NaN (clv_predict an Infinity spend, clv_value with
-- margin 0 a NaN) before.  Finite results are unchanged.
SELECT q, pred_error(q) FROM (VALUES
 ($$SELECT clv_expected_spend('{"p":6.25,"q":3.74,"gamma":15.44}', 1, 1e308)$$),
 ($$SELECT clv_expected_spend('{"p":1e200,"q":3.74,"gamma":1e200}', 0, 1)$$),
 ($$SELECT clv_value('{"r":0.243,"alpha":4.414,"a":0.793,"b":2.426,"p":6.25,"q":3.74,"gamma":15.44}', 2, 30, 38, 1e308, 39, 0, 0)$$),
 ($$SELECT clv_predict('{"r":0.243,"alpha":4.414,"a":0.793,"b":2.426,"p":6.25,"q":3.74,"gamma":15.44}', 2, 30, 38, 1e308, 39)$$),
 ($$SELECT clv_value('{"r":0.243,"alpha":4.414,"a":0.793,"b":2.426,"p":6.25,"q":3.74,"gamma":15.44}', 2, 30, 38, 20, 39, 0, 1e308)$$),
 ($$SELECT clv_value('{"r":0.243,"alpha":4.414,"a":0.793,"b":2.426,"p":6.25,"q":3.74,"gamma":15.44}', 2, 30, 38, 1e300, 39, 0.01, 1e10)$$)
) AS v(q);
SELECT round((clv_value('{"r":0.243,"alpha":4.414,"a":0.793,"b":2.426,"p":6.25,"q":3.74,"gamma":15.44}', 2, 30, 38, 1e300, 39, 0, 1) / 1e300)::numeric, 6) AS big_but_finite,
       round((clv_expected_spend('{"p":6.25,"q":3.74,"gamma":15.44}', 1, 1e307) / 1e307)::numeric, 6) AS big_spend;

-- BG/BB counts opportunities one by one: t (and the horizon of P(X(n) = k))
-- beyond 2^31 - 1 is refused (3e9 used to overflow an int and return 1).
SELECT q, pred_error(q) FROM (VALUES
 ($$SELECT clv_p_alive('{"alpha":1.204,"beta":0.75,"gamma":0.657,"delta":2.78}'::jsonb, 0, 0, 3e9)$$),
 ($$SELECT clv_expected_purchases('{"alpha":1.204,"beta":0.75,"gamma":0.657,"delta":2.78}'::jsonb, 3e9, 3e9, 3e9, 1)$$),
 ($$SELECT clv_purchase_probability('{"alpha":1.204,"beta":0.75,"gamma":0.657,"delta":2.78}'::jsonb, 0, 3e9)$$)
) AS v(q);
-- at the bound itself (the last transaction in the last opportunity: one term)
SELECT round(clv_p_alive('{"alpha":1.204,"beta":0.75,"gamma":0.657,"delta":2.78}'::jsonb, 5, 2147483647, 2147483647)::numeric, 6) AS p_alive_at_bound;

DROP FUNCTION pred_error(text);
DROP TABLE pred_params;
