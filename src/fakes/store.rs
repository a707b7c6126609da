//! `FakeStore`: an in-memory S3 with per-request and per-key injected failures and conditional writes.
//!
//! Answers as the S3 adapter does: a conditional write whose precondition fails is
//! `PreconditionFailed` (412); `If-Match` on a missing object is a `NoSuchKey` error (S3's 404);
//! calls on an unknown bucket are `NoSuchBucket`; an empty DeleteObjects returns at once,
//! unrecorded. The lease's reads and conditional writes take scripted failures, one per call, in
//! order.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use async_trait::async_trait;

use super::{permanent, transient};
use crate::aws_error::AwsError;
use crate::store::{CondPut, KeyOutcome, LifecycleRule, ListPage, Listed, ObjectStore, Versioned};

#[derive(Default)]
struct State {
    buckets: BTreeSet<String>,
    /// (bucket, key) → (last modified, body, etag)
    objects: BTreeMap<(String, String), (SystemTime, Vec<u8>, String)>,
    delete_requests: Vec<(String, Vec<String>)>,
    list_requests: usize,
    fail_delete: VecDeque<AwsError>,
    /// The next DeleteObjects panics (a bug in a request, for the supervisor's tests).
    panic_delete: bool,
    /// Scripted failures of the next GetObject / conditional PutObject calls.
    fail_get: VecDeque<AwsError>,
    fail_put: VecDeque<AwsError>,
    /// Conditional PutObject calls: (key, the If-Match etag or `None` for If-None-Match).
    put_requests: Vec<(String, Option<String>)>,
    deny_keys: HashSet<String>,
    /// key → how many more times its delete fails transiently.
    flaky_keys: HashMap<String, u32>,
    page_size: usize,
    /// Objects listed without a LastModified.
    undated: HashSet<(String, String)>,
    etag_counter: u64,
    delay: std::time::Duration,
    /// Deletes of keys under these prefixes are refused per key (AccessDenied), like IAM does.
    deny_prefixes: Vec<String>,
    /// Deletes of keys NOT under this prefix are refused per key (a role scoped to it).
    deny_outside: Option<String>,
    /// ListObjectsV2 is refused (AccessDenied).
    deny_list: bool,
    /// PutObject (conditional writes) is refused (AccessDenied).
    deny_put: bool,
    /// bucket → lifecycle rules; a bucket absent here has no lifecycle configuration.
    lifecycle: HashMap<String, Vec<LifecycleRule>>,
    /// GetBucketLifecycleConfiguration is refused (AccessDenied).
    deny_lifecycle: bool,
    /// Keys that make any DeleteObjects naming them fail as a whole (S3's 400 MalformedXML).
    poison_keys: HashSet<String>,
    /// GetObject of a missing key is AccessDenied (S3 under an IAM without unconditioned ListBucket).
    deny_missing_reads: bool,
}

#[derive(Clone, Default)]
pub struct FakeStore {
    state: Arc<Mutex<State>>,
}

impl FakeStore {
    pub fn new(buckets: &[&str]) -> Self {
        let s = FakeStore::default();
        {
            let mut st = s.lock();
            st.buckets = buckets.iter().map(|b| b.to_string()).collect();
            st.page_size = 1000;
        }
        s
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn put(&self, bucket: &str, key: &str, modified: SystemTime) {
        let mut s = self.lock();
        s.etag_counter += 1;
        let etag = format!("\"e{}\"", s.etag_counter);
        s.objects
            .insert((bucket.into(), key.into()), (modified, Vec::new(), etag));
    }

    /// Put an object of `size` bytes.
    pub fn put_sized(&self, bucket: &str, key: &str, modified: SystemTime, size: usize) {
        self.put(bucket, key, modified);
        if let Some(o) = self
            .lock()
            .objects
            .get_mut(&(bucket.to_string(), key.to_string()))
        {
            o.1 = vec![0; size];
        }
    }

    /// Put an object that ListObjectsV2 returns without a LastModified.
    pub fn put_undated(&self, bucket: &str, key: &str, size: usize) {
        self.put_sized(bucket, key, SystemTime::UNIX_EPOCH, size);
        self.lock().undated.insert((bucket.into(), key.into()));
    }

    pub fn exists(&self, bucket: &str, key: &str) -> bool {
        self.lock()
            .objects
            .contains_key(&(bucket.to_string(), key.to_string()))
    }

    pub fn count(&self) -> usize {
        self.lock().objects.len()
    }

    /// Every DeleteObjects request: (bucket, keys).
    pub fn delete_requests(&self) -> Vec<(String, Vec<String>)> {
        self.lock().delete_requests.clone()
    }

    pub fn list_requests(&self) -> usize {
        self.lock().list_requests
    }

    pub fn set_page_size(&self, n: usize) {
        self.lock().page_size = n.max(1);
    }

    /// The next DeleteObjects request fails as a whole.
    pub fn fail_next_delete(&self, e: AwsError) {
        self.lock().fail_delete.push_back(e);
    }

    /// The next GetObject fails with `e` (then the next queued failure, then success).
    pub fn fail_next_get(&self, e: AwsError) {
        self.lock().fail_get.push_back(e);
    }

    /// The next conditional PutObject fails with `e`.
    pub fn fail_next_put(&self, e: AwsError) {
        self.lock().fail_put.push_back(e);
    }

    /// Every conditional PutObject: (key, the If-Match etag, `None` for `If-None-Match: *`).
    pub fn put_requests(&self) -> Vec<(String, Option<String>)> {
        self.lock().put_requests.clone()
    }

    /// Any DeleteObjects naming `key` is rejected as a whole (400 MalformedXML), as S3 rejects
    /// a request whose XML cannot carry one of its keys.
    pub fn poison_key(&self, key: &str) {
        self.lock().poison_keys.insert(key.into());
    }

    /// Deletes of this key are refused with AccessDenied inside a 200 response.
    pub fn deny_key(&self, key: &str) {
        self.lock().deny_keys.insert(key.into());
    }

    /// Deletes of every key under `prefix` are refused with AccessDenied inside a 200 response.
    pub fn deny_prefix(&self, prefix: &str) {
        self.lock().deny_prefixes.push(prefix.into());
    }

    /// Deletes of every key outside `prefix` are refused with AccessDenied inside a 200 response
    /// (the shipped IAM policy's shape).
    pub fn deny_outside(&self, prefix: &str) {
        self.lock().deny_outside = Some(prefix.into());
    }

    /// ListObjectsV2 answers AccessDenied.
    pub fn deny_list(&self) {
        self.lock().deny_list = true;
    }

    /// PutObject answers AccessDenied.
    pub fn deny_put(&self) {
        self.lock().deny_put = true;
    }

    /// GetBucketLifecycleConfiguration answers AccessDenied.
    pub fn deny_lifecycle(&self) {
        self.lock().deny_lifecycle = true;
    }

    /// The bucket's lifecycle configuration.
    pub fn set_lifecycle(&self, bucket: &str, rules: Vec<LifecycleRule>) {
        self.lock().lifecycle.insert(bucket.into(), rules);
    }

    /// The body of an object, if present.
    pub fn body(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        self.lock()
            .objects
            .get(&(bucket.to_string(), key.to_string()))
            .map(|(_, body, _)| body.clone())
    }

    /// Every (bucket, key) stored, in order.
    pub fn keys(&self) -> Vec<(String, String)> {
        self.lock().objects.keys().cloned().collect()
    }

    /// Answer a GetObject of a missing key with AccessDenied, as S3 does to a caller without
    /// `s3:ListBucket` on the bucket for requests without an `s3:prefix` (the shipped IAM).
    pub fn deny_missing_reads(&self) {
        self.lock().deny_missing_reads = true;
    }

    /// Every DeleteObjects call takes this long (tokio time).
    pub fn set_delay(&self, d: std::time::Duration) {
        self.lock().delay = d;
    }

    /// The next DeleteObjects call panics instead of answering.
    pub fn panic_next_delete(&self) {
        self.lock().panic_delete = true;
    }

    /// Deletes of this key fail transiently (InternalError, per key) `times` times.
    pub fn flaky_key(&self, key: &str, times: u32) {
        self.lock().flaky_keys.insert(key.into(), times);
    }
}

#[async_trait]
impl ObjectStore for FakeStore {
    async fn delete_objects(
        &self,
        bucket: &str,
        keys: &[String],
    ) -> Result<Vec<KeyOutcome>, AwsError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let delay = self.lock().delay;
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let mut s = self.lock();
        s.delete_requests.push((bucket.into(), keys.to_vec()));
        if std::mem::take(&mut s.panic_delete) {
            drop(s);
            panic!("injected panic in DeleteObjects");
        }
        if keys.len() > crate::store::MAX_KEYS_PER_DELETE {
            return Err(permanent("s3", "DeleteObjects", "MalformedXML"));
        }
        if let Some(e) = s.fail_delete.pop_front() {
            return Err(e);
        }
        if !s.buckets.contains(bucket) {
            return Err(permanent("s3", "DeleteObjects", "NoSuchBucket"));
        }
        if keys.iter().any(|k| s.poison_keys.contains(k)) {
            return Err(permanent("s3", "DeleteObjects", "MalformedXML"));
        }
        let mut out = Vec::new();
        for k in keys {
            let outside = s
                .deny_outside
                .as_ref()
                .is_some_and(|p| !k.starts_with(p.as_str()));
            if s.deny_keys.contains(k)
                || outside
                || s.deny_prefixes.iter().any(|p| k.starts_with(p.as_str()))
            {
                out.push(KeyOutcome {
                    key: k.clone(),
                    result: Err(permanent("s3", "DeleteObjects", "AccessDenied")),
                });
                continue;
            }
            if let Some(n) = s.flaky_keys.get_mut(k) {
                if *n > 0 {
                    *n -= 1;
                    out.push(KeyOutcome {
                        key: k.clone(),
                        result: Err(transient("s3", "DeleteObjects", "InternalError")),
                    });
                    continue;
                }
            }
            s.objects.remove(&(bucket.to_string(), k.clone()));
            out.push(KeyOutcome {
                key: k.clone(),
                result: Ok(()),
            });
        }
        Ok(out)
    }

    async fn list_page(
        &self,
        bucket: &str,
        prefix: &str,
        continuation: Option<String>,
    ) -> Result<ListPage, AwsError> {
        let mut s = self.lock();
        s.list_requests += 1;
        if s.deny_list {
            return Err(permanent("s3", "ListObjectsV2", "AccessDenied"));
        }
        if !s.buckets.contains(bucket) {
            return Err(permanent("s3", "ListObjectsV2", "NoSuchBucket"));
        }
        let start = continuation.unwrap_or_default();
        let page_size = s.page_size;
        let mut objects: Vec<Listed> = s
            .objects
            .iter()
            .filter(|((b, k), _)| {
                b == bucket && k.starts_with(prefix) && k.as_str() > start.as_str()
            })
            .take(page_size + 1)
            .map(|((b, k), (t, body, _))| Listed {
                key: k.clone(),
                last_modified: (!s.undated.contains(&(b.clone(), k.clone()))).then_some(*t),
                size: body.len() as u64,
            })
            .collect();
        let next = if objects.len() > page_size {
            objects.truncate(page_size);
            objects.last().map(|o| o.key.clone())
        } else {
            None
        };
        Ok(ListPage { objects, next })
    }

    async fn get_versioned(&self, bucket: &str, key: &str) -> Result<Option<Versioned>, AwsError> {
        let mut s = self.lock();
        if let Some(e) = s.fail_get.pop_front() {
            return Err(e);
        }
        if !s.buckets.contains(bucket) {
            return Err(permanent("s3", "GetObject", "NoSuchBucket"));
        }
        let found = s
            .objects
            .get(&(bucket.to_string(), key.to_string()))
            .map(|(_, body, etag)| Versioned {
                body: body.clone(),
                etag: etag.clone(),
            });
        if found.is_none() && s.deny_missing_reads {
            return Err(permanent("s3", "GetObject", "AccessDenied"));
        }
        Ok(found)
    }

    async fn put_conditional(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        if_match: Option<&str>,
    ) -> Result<CondPut, AwsError> {
        let mut s = self.lock();
        s.put_requests
            .push((key.to_owned(), if_match.map(str::to_owned)));
        if let Some(e) = s.fail_put.pop_front() {
            return Err(e);
        }
        if s.deny_put {
            return Err(permanent("s3", "PutObject", "AccessDenied"));
        }
        if !s.buckets.contains(bucket) {
            return Err(permanent("s3", "PutObject", "NoSuchBucket"));
        }
        let id = (bucket.to_string(), key.to_string());
        let current = s.objects.get(&id).map(|(_, _, e)| e.clone());
        let ok = match (if_match, current) {
            (None, None) => true,
            (None, Some(_)) => false,
            (Some(want), Some(have)) => want == have,
            // S3 answers If-Match on a missing object with 404 NoSuchKey, not 412.
            (Some(_), None) => return Err(permanent("s3", "PutObject", "NoSuchKey")),
        };
        if !ok {
            return Ok(CondPut::PreconditionFailed);
        }
        s.etag_counter += 1;
        let etag = format!("\"e{}\"", s.etag_counter);
        s.objects
            .insert(id, (SystemTime::now(), body, etag.clone()));
        Ok(CondPut::Written(etag))
    }

    async fn delete_one(&self, bucket: &str, key: &str) -> Result<(), AwsError> {
        let mut s = self.lock();
        if !s.buckets.contains(bucket) {
            return Err(permanent("s3", "DeleteObject", "NoSuchBucket"));
        }
        // Deleting a missing key is a success (204), as in S3.
        s.objects.remove(&(bucket.to_string(), key.to_string()));
        Ok(())
    }

    async fn lifecycle_rules(&self, bucket: &str) -> Result<Vec<LifecycleRule>, AwsError> {
        let s = self.lock();
        if s.deny_lifecycle {
            return Err(permanent(
                "s3",
                "GetBucketLifecycleConfiguration",
                "AccessDenied",
            ));
        }
        if !s.buckets.contains(bucket) {
            return Err(permanent(
                "s3",
                "GetBucketLifecycleConfiguration",
                "NoSuchBucket",
            ));
        }
        Ok(s.lifecycle.get(bucket).cloned().unwrap_or_default())
    }
}
