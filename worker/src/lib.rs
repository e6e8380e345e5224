//! The worker (Cloud Run): queue consumer, `/drain`, health, metrics and the dashboard.
//! Placeholder: built in the worker issue (#6) on the queue (#3).
