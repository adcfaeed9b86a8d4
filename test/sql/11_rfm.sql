-- clv_rfm_segment: named segments from 1-5 scores (API.md §2).
-- The whole documented grid: recency 5 (most recent) .. 1 by frequency 1 .. 5.
SELECT r AS r_score,
       clv_rfm_segment(r, 1) AS f1, clv_rfm_segment(r, 2) AS f2, clv_rfm_segment(r, 3) AS f3,
       clv_rfm_segment(r, 4) AS f4, clv_rfm_segment(r, 5) AS f5
FROM generate_series(5, 1, -1) r;

-- With a monetary score, frequency and monetary are averaged, half rounded up.
SELECT clv_rfm_segment(5, 5, 5) AS "555", clv_rfm_segment(5, 4, 3) AS "543 -> 54",
       clv_rfm_segment(5, 3, 4) AS "534 -> 54", clv_rfm_segment(5, 1, 2) AS "512 -> 52",
       clv_rfm_segment(1, 1, 1) AS "111", clv_rfm_segment(2, 5, 1) AS "251 -> 23";

-- Every score combination has exactly one of the 11 named segments.
SELECT count(*) AS combinations, count(DISTINCT clv_rfm_segment(r, f, m)) AS segments
FROM generate_series(1, 5) r, generate_series(1, 5) f, generate_series(1, 5) m;

-- The one-query recipe from the README: score a whole customer table with ntile(5).
CREATE TABLE rfm_orders (customer_id int, purchased_at date, amount float8);
INSERT INTO rfm_orders
SELECT c, date '2024-01-01' + ((c * 37 + k * 11) % 300), 10 + (c % 7) * k
FROM generate_series(1, 100) c, generate_series(1, 1 + c % 6) k;
WITH summary AS (
  SELECT customer_id, (clv_summary(purchased_at, amount, '2024-12-31')).*
  FROM rfm_orders GROUP BY customer_id),
scored AS (
  SELECT customer_id,
         ntile(5) OVER (ORDER BY days_since_last DESC, customer_id) AS r,
         ntile(5) OVER (ORDER BY n_purchases, customer_id) AS f,
         ntile(5) OVER (ORDER BY total_amount, customer_id) AS m
  FROM summary)
SELECT clv_rfm_segment(r, f, m) AS segment, count(*) AS customers
FROM scored GROUP BY 1 ORDER BY 2 DESC, 1;
DROP TABLE rfm_orders;

-- Scores outside 1..5 are errors that name the score; NULL gives NULL.
SELECT clv_rfm_segment(0, 3);
SELECT clv_rfm_segment(3, 6);
SELECT clv_rfm_segment(3, 3, -1);
SELECT clv_rfm_segment(NULL, 3) IS NULL AS null_in_null_out;
