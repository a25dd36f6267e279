//! Caches of every child kind (reflectors over label-selected watches), and the `owns` watches that trigger a
//! reconcile when a child changes, both from the one table of child kinds. The caches make a reconcile's cost
//! independent of how many stores exist: prune and status read them instead of listing.
use futures::{FutureExt, StreamExt};
use kube::Client;
use kube::core::DeserializeGuard;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{Controller, WatchStreamExt, watcher};

use crate::api::names::managed_selector;
use crate::api::v1alpha1::ZotArtifactStore;
use crate::cached::Cached;
use crate::children::{Caches, ChildKind, with_child_kinds};
use crate::platform::Platform;
use crate::scope::Scope;

type StoreController = Controller<DeserializeGuard<ZotArtifactStore>>;

/// A cache of the scope's `K` objects carrying the operator's label, in their [`Cached`] form, and
/// `controller` told to reconcile a child's owner when it changes.
fn cache<K: ChildKind>(
    client: &Client,
    scope: &Scope,
    controller: StoreController,
) -> (Store<Cached<K>>, StoreController) {
    let writer = reflector::store::Writer::new(K::dyntype());
    let reader = writer.as_reader();
    let config = watcher::Config::default().labels(&managed_selector());
    let changes = watcher(K::cache_api(client, scope), config)
        .default_backoff()
        .reflect(writer)
        .touched_objects()
        .boxed();
    (reader, controller.owns_stream_with(changes, K::dyntype()))
}

macro_rules! wire_kinds {
    ($($field:ident: $kind:ty),* $(,)?) => {
        /// Starts a cache of every child kind the platform serves and has `controller` own its objects.
        pub fn watch(
            client: &Client,
            scope: &Scope,
            platform: &Platform,
            mut controller: StoreController,
        ) -> (Caches, StoreController) {
            let mut caches = Caches::default();
            $(
                if <$kind as ChildKind>::served(platform) {
                    let (store, next) = cache::<$kind>(client, scope, controller);
                    caches.$field = Some(store);
                    controller = next;
                }
            )*
            (caches, controller)
        }

        /// How many objects each cache holds, and how many bytes of text, by kind.
        pub fn counts(caches: &Caches) -> Vec<(&'static str, usize, usize)> {
            let mut counts = Vec::new();
            $(
                if let Some(cache) = &caches.$field {
                    let objects = cache.state();
                    let bytes = objects.iter().map(|o| o.text_len()).sum();
                    counts.push((<$kind as ChildKind>::KIND, objects.len(), bytes));
                }
            )*
            counts
        }

        /// Whether every cache has listed its objects once: `None` while one has not, an error when one stopped.
        ///
        /// It looks and never waits: a reflector's readiness is a oneshot that wakes only its latest waiter, so a
        /// second task waiting on it would starve the first (the controller waits on the stores' own).
        pub fn synced(caches: &Caches) -> Option<Result<(), reflector::store::WriterDropped>> {
            async {
                $(
                    if let Some(cache) = &caches.$field {
                        cache.wait_until_ready().await?;
                    }
                )*
                Ok(())
            }
            .now_or_never()
        }
    };
}
with_child_kinds!(wire_kinds);
