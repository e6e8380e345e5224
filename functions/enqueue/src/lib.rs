//! The enqueue function (`POST /api/jobs`): validates a job, puts it on the priority queue and
//! wakes the worker. Placeholder: the HTTP surface is built in the functions issue (#5); until
//! then this crate has no behaviour and no binary.
