// SPDX-License-Identifier: GPL-2.0
//! Run-time choice of backend: [`Backend`] names and [`AnyPool`].

use super::chunked::{z3fold::Z3foldPool, zbud::ZbudPool};
use super::zblock::ZblockPool;
use super::zpool::{
    AccessError, AllocError, ClassStats, Handle, PageProvider, PoolLock, Zpool, PAGE_SIZE,
};
use super::zsmalloc::ZsPool;

/// The allocator backends.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Backend {
    /// Size classes and multi-page zspages ([`ZsPool`]).
    Zsmalloc,
    /// Two objects per page ([`ZbudPool`]).
    Zbud,
    /// Three objects per page ([`Z3foldPool`]).
    Z3fold,
    /// Blocks of same-size slots, handles naming the slot ([`ZblockPool`]).
    Zblock,
}

impl Backend {
    /// All backends, default first.
    pub const ALL: [Backend; 4] = [
        Backend::Zsmalloc,
        Backend::Zbud,
        Backend::Z3fold,
        Backend::Zblock,
    ];

    /// The name used in sysfs and on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            Backend::Zsmalloc => "zsmalloc",
            Backend::Zbud => "zbud",
            Backend::Z3fold => "z3fold",
            Backend::Zblock => "zblock",
        }
    }

    /// Parses a name; one trailing newline (as written to sysfs) is ignored.
    pub fn from_name(name: &[u8]) -> Option<Self> {
        let name = name.strip_suffix(b"\n").unwrap_or(name);
        Self::ALL.into_iter().find(|b| b.name().as_bytes() == name)
    }
}

/// A pool of the backend chosen at run time.
///
/// Every variant is a few hundred bytes at most (the tables, class states and
/// list heads live in provider pages), so a pool can be built on the kernel
/// stack before it is moved to the heap.
pub enum AnyPool<P: PageProvider, L: PoolLock> {
    /// zsmalloc-style pool.
    Zsmalloc(ZsPool<P, L>),
    /// zbud-style pool.
    Zbud(ZbudPool<P, L>),
    /// z3fold-style pool.
    Z3fold(Z3foldPool<P, L>),
    /// zblock-style pool.
    Zblock(ZblockPool<P, L>),
}

macro_rules! each {
    ($self:ident, $p:ident => $e:expr) => {
        match $self {
            AnyPool::Zsmalloc($p) => $e,
            AnyPool::Zbud($p) => $e,
            AnyPool::Z3fold($p) => $e,
            AnyPool::Zblock($p) => $e,
        }
    };
}

impl<P: PageProvider, L: PoolLock> AnyPool<P, L> {
    /// Creates an empty pool of `backend`; `None` if a lock cannot be made.
    pub fn new(backend: Backend, provider: P) -> Option<Self> {
        Some(match backend {
            Backend::Zsmalloc => AnyPool::Zsmalloc(ZsPool::new(provider)?),
            Backend::Zbud => AnyPool::Zbud(ZbudPool::new(provider)?),
            Backend::Z3fold => AnyPool::Z3fold(Z3foldPool::new(provider)?),
            Backend::Zblock => AnyPool::Zblock(ZblockPool::new(provider)?),
        })
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        match self {
            AnyPool::Zsmalloc(_) => Backend::Zsmalloc,
            AnyPool::Zbud(_) => Backend::Zbud,
            AnyPool::Z3fold(_) => Backend::Z3fold,
            AnyPool::Zblock(_) => Backend::Zblock,
        }
    }

    /// See [`Zpool::name`].
    pub fn name(&self) -> &'static str {
        self.backend().name()
    }

    /// See [`Zpool::alloc`].
    pub fn alloc(&self, len: usize) -> Result<Handle, AllocError> {
        each!(self, p => p.alloc(len))
    }

    /// See [`Zpool::write`].
    pub fn write(&self, handle: Handle, data: &[u8]) -> Result<(), AccessError> {
        each!(self, p => p.write(handle, data))
    }

    /// See [`Zpool::read`].
    pub fn read<R>(
        &self,
        handle: Handle,
        bounce: &mut [u8; PAGE_SIZE],
        f: impl FnOnce(&[u8]) -> R,
    ) -> Result<R, AccessError> {
        each!(self, p => p.read(handle, bounce, f))
    }

    /// See [`Zpool::free`].
    pub fn free(&self, handle: Handle) {
        each!(self, p => p.free(handle))
    }

    /// See [`Zpool::total_pages`].
    pub fn total_pages(&self) -> usize {
        each!(self, p => p.total_pages())
    }

    /// See [`Zpool::compact`].
    pub fn compact(&self) -> usize {
        each!(self, p => p.compact())
    }

    /// See [`Zpool::class_count`].
    pub fn class_count(&self) -> usize {
        each!(self, p => p.class_count())
    }

    /// See [`Zpool::class_stats`].
    pub fn class_stats(&self, idx: usize) -> Option<ClassStats> {
        each!(self, p => p.class_stats(idx))
    }
}

#[cfg(test)]
mod tests {
    use super::super::zpool::testing::HostProvider;
    use super::super::zpool::SpinLockHost;
    use super::*;

    #[test]
    fn names() {
        for b in Backend::ALL {
            assert_eq!(Backend::from_name(b.name().as_bytes()), Some(b));
        }
        assert_eq!(Backend::from_name(b"zbud\n"), Some(Backend::Zbud));
        assert_eq!(Backend::from_name(b"zbud\n\n"), None);
        assert_eq!(Backend::from_name(b"lz4"), None);
    }

    /// A lock of the kernel's lock's size: a pointer to a boxed spinlock.
    struct BoxedLock(Box<SpinLockHost>);

    impl PoolLock for BoxedLock {
        fn new() -> Option<Self> {
            Some(Self(Box::new(SpinLockHost::new()?)))
        }
        fn with<R>(&self, f: impl FnOnce() -> R) -> R {
            self.0.with(f)
        }
    }

    #[test]
    fn pools_are_small() {
        use core::mem::size_of;
        type P<'a> = &'a HostProvider;
        let sizes = [
            ("zsmalloc", size_of::<ZsPool<P, BoxedLock>>()),
            ("zbud", size_of::<ZbudPool<P, BoxedLock>>()),
            ("z3fold", size_of::<Z3foldPool<P, BoxedLock>>()),
            ("zblock", size_of::<ZblockPool<P, BoxedLock>>()),
            ("any", size_of::<AnyPool<P, BoxedLock>>()),
        ];
        for (name, size) in sizes {
            println!("size_of pool {name}: {size} bytes");
            // Built on a 16 KiB kernel stack, perhaps in two copies: keep the
            // frames that create a pool well under 1 KiB.
            assert!(size <= 256, "{name} pool is {size} bytes");
        }
    }

    #[test]
    fn new_without_pages_fails_cleanly() {
        for b in Backend::ALL {
            for budget in 0..4 {
                let tp = HostProvider::new();
                tp.budget
                    .store(budget, std::sync::atomic::Ordering::Relaxed);
                if let Some(pool) = AnyPool::<_, SpinLockHost>::new(b, &tp) {
                    assert_eq!(pool.total_pages(), tp.held(), "{b:?}");
                    drop(pool);
                }
                assert_eq!(tp.held(), 0, "{b:?} with {budget} pages");
            }
        }
    }

    #[test]
    fn each_backend_roundtrips() {
        for b in Backend::ALL {
            let tp = HostProvider::new();
            let pool = AnyPool::<_, SpinLockHost>::new(b, &tp).unwrap();
            assert_eq!(pool.name(), b.name());
            // Metadata pages of an empty pool, then with one small object:
            // zsmalloc's class states (3 pages), then a root, a directory
            // and a leaf for each table and a data page; zbud's and
            // z3fold's list heads, then the page table's three pages and a
            // data page; zblock's class states (3 pages), then the block
            // table's three pages and a data page.
            let (empty, one) = match b {
                Backend::Zsmalloc => (3, 10),
                Backend::Zblock => (3, 7),
                Backend::Zbud | Backend::Z3fold => (1, 5),
            };
            assert_eq!(pool.total_pages(), empty, "{b:?}");
            let h = pool.alloc(5).unwrap();
            assert_eq!(pool.total_pages(), one, "{b:?}");
            assert_eq!(tp.held(), one, "{b:?}");
            pool.write(h, b"hello").unwrap();
            let mut bounce = [0; PAGE_SIZE];
            assert_eq!(pool.read(h, &mut bounce, |s| s.to_vec()).unwrap(), b"hello");
            assert!(pool.class_count() >= 2);
            pool.free(h);
            drop(pool);
            assert_eq!(tp.held(), 0);
        }
    }
}
