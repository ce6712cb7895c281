//! The behavior suite against each adapter, one test per case
//! (`cargo test -p taskpoll-conformance --test behavior -- --list`), over real HTTP on
//! loopback with the adapter's simulator as the server.

use taskpoll_conformance::redis_cloud::RedisCloudHarness;
use taskpoll_conformance::runware::RunwareHarness;
use taskpoll_conformance::spec::SpecHarness;
use taskpoll_conformance::stream::StreamHarness;
use taskpoll_sim::runware::RunwareSimConfig;

taskpoll_testkit::behavior_suite!(stream, StreamHarness::start().await);

taskpoll_testkit::behavior_suite!(redis_cloud, RedisCloudHarness::start().await);

taskpoll_testkit::behavior_suite!(runware, RunwareHarness::start().await);

// The declarative adapter, with the Replicate spec this repository ships.
taskpoll_testkit::behavior_suite!(spec_replicate, SpecHarness::start().await);

// One getResponse per POST, as Runware's own SDKs poll.
taskpoll_testkit::behavior_suite!(
    runware_unbatched,
    RunwareHarness::start_with(RunwareSimConfig::default(), Some(1)).await
);

// A server that answers only the first two getResponse objects of a POST and says
// nothing about the others: those are polled again alone.
taskpoll_testkit::behavior_suite!(
    runware_answers_cut_to_two,
    RunwareHarness::start_with(
        RunwareSimConfig {
            batch_answer_limit: Some(2),
            ..RunwareSimConfig::default()
        },
        None
    )
    .await
);
