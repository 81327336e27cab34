//! Every model decoder against arbitrary bytes: an error or a model, never a panic; a decoded
//! model keeps the server's JSON as sent.
#![no_main]

use libfuzzer_sys::fuzz_target;

fn check<T: serde::de::DeserializeOwned>(data: &[u8]) {
    let _ = serde_json::from_slice::<T>(data);
}

fuzz_target!(|data: &[u8]| {
    check::<cidata_jenkins::models::Job>(data);
    check::<cidata_jenkins::models::Build>(data);
    check::<cidata_wfapi::Run>(data);
    check::<cidata_circleci::models::Pipeline>(data);
    check::<cidata_circleci::models::Workflow>(data);
    check::<cidata_circleci::models::Job>(data);
    check::<cidata_bitbucket::models::Repository>(data);
    check::<cidata_bitbucket::models::Pipeline>(data);
    check::<cidata_bitbucket::models::PullRequest>(data);
    if let Ok(build) = serde_json::from_slice::<cidata_jenkins::models::Build>(data) {
        let original: serde_json::Value = serde_json::from_slice(data).expect("it decoded");
        let kept: serde_json::Value = serde_json::from_str(build.raw.get()).expect("raw is JSON");
        assert_eq!(original, kept, "raw is the JSON as sent");
    }
});
