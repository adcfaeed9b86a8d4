-- The offers' lifted expectations against clv_simulate of the lifted
-- process.  For a customer acquired now (frequency = recency = t = 0) an
-- offer's effect from now on is the model itself with other parameters,
-- where the lifted heterogeneity stays in the model's family:
--   Pareto/NBD: purchase rate k*lambda ~ Gamma(r, alpha/k) and dropout rate
--     c*mu ~ Gamma(s, beta/c);
--   BG/NBD and MBG/NBD: purchase rate k*lambda ~ Gamma(r, alpha/k) (the
--     dropout probability c*p is not a Beta: that lift is checked against
--     an independent numpy simulation in test/oracle/offer_lift.py).
-- 40,000 simulated customers per case (seeded): the simulated mean of the
-- repeat purchases over 52 weeks must be within 4 standard errors of
-- clv_offer_predict's offer_purchases, and the baseline (no lift) more than
-- 4 standard errors away, so that a lift that is not applied is seen.
CREATE TABLE offsim_cases (model text, base jsonb, lifted jsonb, offer jsonb);
INSERT INTO offsim_cases VALUES
('pareto_nbd purchase and retention lift',
 '{"transaction_model": "pareto_nbd", "r": 0.55, "alpha": 10.58, "s": 0.61, "beta": 11.67}',
 '{"transaction_model": "pareto_nbd", "r": 0.55, "alpha": 7.053333333333333, "s": 0.61, "beta": 19.45}',
 '{"cost": 1, "response_rate": 1, "purchase_lift": 0.5, "retention_lift": 0.4, "value_per_purchase": 1}'),
('pareto_nbd retention lift',
 '{"transaction_model": "pareto_nbd", "r": 0.55, "alpha": 10.58, "s": 0.61, "beta": 11.67}',
 '{"transaction_model": "pareto_nbd", "r": 0.55, "alpha": 10.58, "s": 0.61, "beta": 23.34}',
 '{"cost": 1, "response_rate": 1, "retention_lift": 0.5, "value_per_purchase": 1}'),
('bgnbd purchase lift',
 '{"transaction_model": "bgnbd", "r": 0.24, "alpha": 4.41, "a": 0.79, "b": 2.43}',
 '{"transaction_model": "bgnbd", "r": 0.24, "alpha": 2.205, "a": 0.79, "b": 2.43}',
 '{"cost": 1, "response_rate": 1, "purchase_lift": 1, "value_per_purchase": 1}'),
('mbgnbd purchase lift',
 '{"transaction_model": "mbgnbd", "r": 0.53, "alpha": 6.18, "a": 0.89, "b": 1.61}',
 '{"transaction_model": "mbgnbd", "r": 0.53, "alpha": 3.09, "a": 0.89, "b": 1.61}',
 '{"cost": 1, "response_rate": 1, "purchase_lift": 1, "value_per_purchase": 1}');

SELECT c.model,
       abs(s.mean - o.offer_purchases) < 4 * s.se AS lifted_matches_simulation,
       abs(s.mean - o.baseline_purchases) > 4 * s.se AS baseline_does_not
FROM offsim_cases c,
     LATERAL (SELECT avg(r.repeats) AS mean, stddev(r.repeats) / sqrt(count(*)) AS se
              FROM (SELECT count(*) - 1 AS repeats
                    FROM clv_simulate(c.lifted, 40000, 52, 7) GROUP BY customer_id) r) s,
     LATERAL clv_offer_predict(c.base, 0, 0, 0, NULL, 52, 0, 1, c.offer) o
ORDER BY c.model;

DROP TABLE offsim_cases;
