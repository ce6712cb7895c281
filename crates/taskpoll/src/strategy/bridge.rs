//! Bridges from other crates' backoff types (behind the `backon` and `backoff` features).

#[cfg(feature = "backon")]
mod backon_bridge {
    use std::sync::Arc;

    use crate::strategy::{Delays, IntervalStrategy, IntoStrategy};

    /// Marker: the value is a backon builder.
    #[derive(Debug)]
    pub enum ViaBackon {}

    struct BackonStrategy<B>(B);

    impl<B> IntervalStrategy for BackonStrategy<B>
    where
        B: backon::BackoffBuilder + Clone + 'static,
        B::Backoff: 'static,
    {
        fn delays(&self, _salt: u64) -> Delays {
            Box::new(self.0.clone().build())
        }

        fn describe(&self) -> String {
            format!("backon {}", std::any::type_name::<B>())
        }
    }

    macro_rules! backon_builders {
        ($($builder:ty),*) => {$(
            impl IntoStrategy<ViaBackon> for $builder {
                fn into_strategy(self) -> Arc<dyn IntervalStrategy> {
                    Arc::new(BackonStrategy(self))
                }
            }
        )*};
    }

    backon_builders!(
        backon::ExponentialBuilder,
        backon::ConstantBuilder,
        backon::FibonacciBuilder
    );
}

#[cfg(feature = "backon")]
pub use backon_bridge::ViaBackon;

#[cfg(feature = "backoff")]
#[allow(deprecated)] // the bridge's own impls name its deprecated items
mod backoff_bridge {
    use std::time::Duration;

    use crate::strategy::{Delays, IntervalStrategy};

    /// A `backoff::backoff::Backoff` as an interval strategy: each wait polls a reset
    /// clone of it.
    ///
    /// **The `backoff` crate is unmaintained** (RUSTSEC-2025-0012; its `instant`
    /// dependency has RUSTSEC-2024-0384). Prefer backon's builders (the `backon`
    /// feature) or this crate's own strategies. `backoff`'s `ExponentialBackoff` also
    /// measures `max_elapsed_time` with the system clock, not tokio's: set it to `None`
    /// and let the poller's deadline bound the wait.
    #[deprecated(
        since = "0.1.0",
        note = "the backoff crate is unmaintained (RUSTSEC-2025-0012): use backon's builders (the `backon` feature) or taskpoll::strategy"
    )]
    #[derive(Debug, Clone)]
    pub struct BackoffBridge<B>(B);

    /// Bridges a `backoff::backoff::Backoff` (see [`BackoffBridge`]).
    ///
    /// Deprecated: the `backoff` crate is unmaintained (RUSTSEC-2025-0012). Prefer
    /// backon's builders (the `backon` feature) or this crate's own strategies.
    #[deprecated(
        since = "0.1.0",
        note = "the backoff crate is unmaintained (RUSTSEC-2025-0012): use backon's builders (the `backon` feature) or taskpoll::strategy"
    )]
    pub fn from_backoff<B>(backoff: B) -> BackoffBridge<B>
    where
        B: backoff::backoff::Backoff + Clone + Send + Sync + 'static,
    {
        BackoffBridge(backoff)
    }

    impl<B> IntervalStrategy for BackoffBridge<B>
    where
        B: backoff::backoff::Backoff + Clone + Send + Sync + 'static,
    {
        fn delays(&self, _salt: u64) -> Delays {
            let mut b = self.0.clone();
            b.reset();
            Box::new(std::iter::from_fn(move || b.next_backoff()).map(|d: Duration| d))
        }

        fn describe(&self) -> String {
            format!("backoff {}", std::any::type_name::<B>())
        }
    }
}

#[cfg(feature = "backoff")]
#[allow(deprecated)]
pub use backoff_bridge::{BackoffBridge, from_backoff};
