// Package activation writes scoring results back to Shopify, where
// merchants act on them: customer tags, customer metafields and saved
// customer segments.
//
// Formats (prefix is cvo.Settings.TagPrefix, "cvo-" by default):
//
//   - group tag: prefix + group slug, exactly one per scored customer whose
//     group is enabled, e.g. "cvo-soulmates", "cvo-about-to-dump-you";
//   - value tag (settings.ValueTags.PredictedValueTier): prefix + "value-" +
//     high|medium|low, the tertile of predicted CLV among the scored
//     customers (ties lean low);
//   - churn tag (settings.ValueTags.ChurnRisk): prefix + "churn-risk-high"
//     when the churn risk is high (the calibrated chance to order within the
//     shop's window is below its high-risk threshold, 10% by default);
//   - metafields in the app-reserved namespace "$app:cvo" (Shopify makes it
//     "app--{app id}--cvo"): group, r_score, f_score, m_score,
//     historical_clv, predicted_clv, p_order_window, churn_risk, p_alive,
//     next_order_date, with definitions created once per shop;
//   - survey links: survey_url_{survey key} (type url) in the same
//     namespace for each customer an active survey targets, deleted
//     (metafieldsDelete) once it no longer does; with
//     cvo.Settings.ShareSurveyLinks also as cvo_survey.{survey key}, a
//     merchant-owned namespace email apps can read (SharedNamespace);
//   - one segment per group named "CVO · {Group Name}" with the query
//     "customer_tags CONTAINS '{group tag}'".
//
// The app never rewrites a customer's tag list: it adds and removes its own
// tags with tagsAdd and tagsRemove, so merchants' tags stay untouched, and
// it decides what to send by comparing the wanted tags with what it wrote
// before (customer_writeback), not with Shopify. Small changes go out as
// ordinary mutations, large ones as bulk mutations.
package activation
