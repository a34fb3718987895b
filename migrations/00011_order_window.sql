-- +goose Up
-- The chance to order within the shop's prediction window, the headline
-- prediction, and the churn risk cut from it; and the settings of both.
ALTER TABLE customer_scores
    ADD COLUMN p_order_window double precision NOT NULL DEFAULT 0,
    ADD COLUMN churn_risk     text NOT NULL DEFAULT '';

ALTER TABLE settings
    ADD COLUMN prediction_window_days smallint NOT NULL DEFAULT 90 CHECK (prediction_window_days BETWEEN 1 AND 3660),
    ADD COLUMN churn_risk_high        numeric(5,4) NOT NULL DEFAULT 0.10,
    ADD COLUMN churn_risk_medium      numeric(5,4) NOT NULL DEFAULT 0.30,
    ADD CONSTRAINT settings_churn_thresholds CHECK (churn_risk_high > 0 AND churn_risk_high <= churn_risk_medium AND churn_risk_medium < 1);

-- +goose Down
ALTER TABLE settings
    DROP CONSTRAINT settings_churn_thresholds,
    DROP COLUMN churn_risk_medium,
    DROP COLUMN churn_risk_high,
    DROP COLUMN prediction_window_days;
ALTER TABLE customer_scores
    DROP COLUMN churn_risk,
    DROP COLUMN p_order_window;
