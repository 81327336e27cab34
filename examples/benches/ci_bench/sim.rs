//! The simulator the scenarios sync from, served by this process on a runtime of its own, so
//! that its truth can be read and changed between the syncs (run in processes of their own).

use std::time::Duration;

use cidata_cli::simulator::{BbWorld, CciWorld, Simulator, World};

/// A running simulator and the runtime that serves it.
pub struct Sim {
    /// The simulator.
    pub sim: Simulator,
    // Dropped after the simulator (field order): its tasks run on it.
    _runtime: tokio::runtime::Runtime,
}

impl Sim {
    /// Serves `jenkins`, `circleci` and `bitbucket` on 127.0.0.1, every answer delayed by
    /// `latency`, without credentials (any are accepted).
    pub fn start(jenkins: World, circleci: CciWorld, bitbucket: BbWorld, latency: Duration) -> Sim {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        let sim = runtime
            .block_on(Simulator::serve(addr, jenkins, circleci, None))
            .expect("simulator starts");
        sim.set_bitbucket(bitbucket);
        sim.set_latency(latency);
        Sim {
            sim,
            _runtime: runtime,
        }
    }

    /// A Jenkins only.
    pub fn jenkins(world: World, latency: Duration) -> Sim {
        Sim::start(
            world,
            CciWorld::new(&[], 0, 0, 0),
            BbWorld::generated(0, 1, 0, 0),
            latency,
        )
    }

    /// A CircleCI only.
    pub fn circleci(world: CciWorld, latency: Duration) -> Sim {
        Sim::start(
            World::bench(0, 0, 0),
            world,
            BbWorld::generated(0, 1, 0, 0),
            latency,
        )
    }

    /// A Bitbucket only.
    pub fn bitbucket(world: BbWorld, latency: Duration) -> Sim {
        Sim::start(
            World::bench(0, 0, 0),
            CciWorld::new(&[], 0, 0, 0),
            world,
            latency,
        )
    }
}
