//! The analyze function (`POST /api/analyze`, Lane A): product analysis on Gemini behind the
//! rate limiter. Placeholder: built in the functions issue (#5) on the AI layer (#4).
