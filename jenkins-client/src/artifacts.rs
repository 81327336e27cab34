//! Archived artifacts: listing, URLs with every path segment encoded, and downloads as byte streams.

use bytes::Bytes;
use cidata_core::{Error, ErrorKind, Request, Result, Url};
use futures::{Stream, TryStreamExt, stream};

use crate::models::Artifact;
use crate::{Jenkins, JobPath, Tree, encode_segment};

impl Jenkins {
    /// The artifacts of a build.
    pub async fn artifacts(&self, job: &JobPath, number: u64) -> Result<Vec<Artifact>> {
        let tree = Tree::new().nested(
            "artifacts",
            Tree::fields(["fileName", "relativePath", "displayPath"]),
        );
        Ok(self.build(job, number, Some(&tree)).await?.artifacts)
    }

    /// The download URL of an artifact: `BUILD/artifact/` plus its relative path with each segment
    /// percent-encoded (Jenkins returns `relativePath` unencoded).
    pub fn artifact_url(&self, job: &JobPath, number: u64, relative_path: &str) -> Result<Url> {
        if relative_path.is_empty()
            || relative_path
                .split('/')
                .any(|s| s.is_empty() || s == "." || s == "..")
        {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("`{relative_path}` is not a relative artifact path"),
            ));
        }
        let encoded: Vec<String> = relative_path.split('/').map(encode_segment).collect();
        self.url(&format!(
            "{}{number}/artifact/{}",
            job.url_path(),
            encoded.join("/")
        ))
    }

    /// Downloads an artifact as a stream of byte chunks, in constant memory whatever its size.
    pub fn download_artifact(
        &self,
        job: &JobPath,
        number: u64,
        relative_path: &str,
    ) -> impl Stream<Item = Result<Bytes>> + Send + 'static {
        let jenkins = self.clone();
        let url = self.artifact_url(job, number, relative_path);
        stream::once(async move {
            let resp = jenkins.http.send(Request::get(url?)).await?;
            Ok::<_, Error>(resp.bytes_stream())
        })
        .try_flatten()
    }
}
