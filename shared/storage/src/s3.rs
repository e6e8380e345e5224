//! The S3 backend, set up the way Cloudflare R2 wants it and usable with any S3-compatible
//! server.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{
    BehaviorVersion, Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
use bytes::Bytes;
use scenergy_config::{ExposeSecret, SecretString};

use crate::{ObjectKey, ObjectMeta, Storage, StorageError};

/// Everything [`S3Storage`] needs. [`crate::StorageConfig::from_env`] fills it from `R2_*`.
#[derive(Debug, Clone)]
pub struct S3Config {
    /// `R2_ENDPOINT`, e.g. `https://<account>.r2.cloudflarestorage.com`.
    pub endpoint: String,
    /// `R2_BUCKET_NAME`.
    pub bucket: String,
    /// `R2_ACCESS_KEY_ID`.
    pub access_key_id: String,
    /// `R2_SECRET_ACCESS_KEY`.
    pub secret_access_key: SecretString,
    /// `R2_PUBLIC_URL`, the base readers fetch objects from, without a trailing `/`.
    pub public_url: String,
    /// `auto` for R2; real S3 servers accept any region when signing for a custom endpoint.
    pub region: String,
    /// Attempts per operation, including the first; the SDK retries transient failures.
    pub max_attempts: u32,
    /// Bound on establishing a connection.
    pub connect_timeout: Duration,
    /// Bound on one whole operation, retries included.
    pub operation_timeout: Duration,
}

impl S3Config {
    /// A config with R2's defaults: region `auto`, 3 attempts, 5 s to connect, 60 s per call.
    pub fn new(
        endpoint: impl Into<String>,
        bucket: impl Into<String>,
        access_key_id: impl Into<String>,
        secret_access_key: SecretString,
        public_url: impl Into<String>,
    ) -> Self {
        Self {
            endpoint: endpoint.into(),
            bucket: bucket.into(),
            access_key_id: access_key_id.into(),
            secret_access_key,
            public_url: public_url.into().trim_end_matches('/').to_owned(),
            region: "auto".to_owned(),
            max_attempts: 3,
            connect_timeout: Duration::from_secs(5),
            operation_timeout: Duration::from_secs(60),
        }
    }
}

/// Objects in one bucket of an S3-compatible service.
#[derive(Debug, Clone)]
pub struct S3Storage {
    client: Client,
    bucket: String,
    public_url: String,
    region: String,
}

impl S3Storage {
    /// Builds the client; no request is made until the first call (use [`Storage::ping`]).
    pub fn new(config: &S3Config) -> Self {
        let credentials = Credentials::new(
            &config.access_key_id,
            config.secret_access_key.expose_secret(),
            None,
            None,
            "scenergy-storage",
        );
        let sdk = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(config.region.clone()))
            .endpoint_url(&config.endpoint)
            // R2 and most self-hosted servers have no per-bucket DNS names.
            .force_path_style(true)
            .credentials_provider(credentials)
            // R2 rejects or ignores some of the newer default checksum headers; send and verify
            // them only where the operation requires it.
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
            .retry_config(RetryConfig::standard().with_max_attempts(config.max_attempts.max(1)))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(config.connect_timeout)
                    .operation_timeout(config.operation_timeout)
                    .build(),
            )
            .build();
        Self {
            client: Client::from_conf(sdk),
            bucket: config.bucket.clone(),
            public_url: config.public_url.trim_end_matches('/').to_owned(),
            region: config.region.clone(),
        }
    }

    /// Creates the bucket unless it exists; for local stacks and tests (R2 buckets are made
    /// in the dashboard).
    pub async fn create_bucket_if_missing(&self) -> Result<(), StorageError> {
        if self.ping().await.is_ok() {
            return Ok(());
        }
        let mut request = self.client.create_bucket().bucket(&self.bucket);
        // Servers that model regions (moto, AWS) refuse a bucket without a location constraint
        // outside us-east-1.
        if self.region != "us-east-1" {
            request = request.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(self.region.as_str()))
                    .build(),
            );
        }
        match request.send().await {
            Ok(_) => Ok(()),
            Err(err)
                if matches!(
                    err.code(),
                    Some("BucketAlreadyOwnedByYou" | "BucketAlreadyExists")
                ) =>
            {
                Ok(())
            }
            Err(err) => Err(classify("create_bucket", &err)),
        }
    }
}

/// The HTTP status of a service's reply, if there was one.
fn status<E>(err: &SdkError<E>) -> Option<u16> {
    err.raw_response().map(|r| r.status().as_u16())
}

/// Sorts an SDK error (after the SDK's own retries) into transient or permanent.
fn classify<E>(op: &'static str, err: &SdkError<E>) -> StorageError
where
    E: std::error::Error + Send + Sync + 'static,
{
    let message = DisplayErrorContext(err).to_string();
    let transient = match err {
        // No reply, a cut-off reply, or one we could not read: the server may be back soon.
        SdkError::TimeoutError(_) | SdkError::ResponseError(_) => true,
        SdkError::DispatchFailure(failure) => !failure.is_user(),
        SdkError::ServiceError(_) => status(err).is_some_and(|s| s >= 500 || s == 429 || s == 408),
        // A request we could not even build will not build next time either.
        _ => false,
    };
    if transient {
        StorageError::Transient { op, message }
    } else {
        StorageError::Permanent { op, message }
    }
}

#[async_trait]
impl Storage for S3Storage {
    fn name(&self) -> &'static str {
        "s3"
    }

    async fn put(
        &self,
        key: &ObjectKey,
        bytes: Bytes,
        content_type: &str,
    ) -> Result<(), StorageError> {
        let len = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .content_type(content_type)
            .content_length(len)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| classify("put", &e))?;
        Ok(())
    }

    async fn get(&self, key: &ObjectKey) -> Result<Option<Bytes>, StorageError> {
        let output = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .send()
            .await
        {
            Ok(output) => output,
            Err(err)
                if err.as_service_error().is_some_and(|e| e.is_no_such_key())
                    || (status(&err) == Some(404) && err.code() != Some("NoSuchBucket")) =>
            {
                return Ok(None);
            }
            Err(err) => return Err(classify("get", &err)),
        };
        let body = output.body.collect().await.map_err(|e| {
            // The reply started and then broke off.
            StorageError::Transient {
                op: "get",
                message: DisplayErrorContext(&e).to_string(),
            }
        })?;
        Ok(Some(body.into_bytes()))
    }

    async fn head(&self, key: &ObjectKey) -> Result<Option<ObjectMeta>, StorageError> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .send()
            .await
        {
            Ok(output) => Ok(Some(ObjectMeta {
                size: output
                    .content_length()
                    .and_then(|n| u64::try_from(n).ok())
                    .unwrap_or(0),
                content_type: output.content_type().map(str::to_owned),
            })),
            // HEAD replies have no body, so a 404 carries no error code to tell a missing
            // object from a missing bucket; ping reports the latter.
            Err(err)
                if err.as_service_error().is_some_and(|e| e.is_not_found())
                    || status(&err) == Some(404) =>
            {
                Ok(None)
            }
            Err(err) => Err(classify("head", &err)),
        }
    }

    fn public_url(&self, key: &ObjectKey) -> String {
        // Keys need no escaping (see ObjectKey).
        format!("{}/{}", self.public_url, key.as_str())
    }

    async fn ping(&self) -> Result<(), StorageError> {
        self.client
            .head_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .map_err(|e| classify("ping", &e))?;
        Ok(())
    }
}
