//! The status function (`GET /api/jobs/{id}`): reads the `job-status:{id}` cache over Upstash
//! REST. Placeholder: built in the functions issue (#5). It must never link aws-sdk-s3 or sqlx.
