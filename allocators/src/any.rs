// SPDX-License-Identifier: GPL-2.0
//! Run-time choice of backend: [`Backend`] names and [`AnyPool`].

use super::z3fold::Z3foldPool;
use super::zbud::ZbudPool;
use super::zpool::{AccessError, AllocError, ClassStats, Handle, PageProvider, PoolLock, Zpool, PAGE_SIZE};
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
}

impl Backend {
    /// All backends, default first.
    pub const ALL: [Backend; 3] = [Backend::Zsmalloc, Backend::Zbud, Backend::Z3fold];

    /// The name used in sysfs and on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            Backend::Zsmalloc => "zsmalloc",
            Backend::Zbud => "zbud",
            Backend::Z3fold => "z3fold",
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
/// The zsmalloc variant is a few KiB (per-class locks and lists); the driver
/// keeps the pool in one heap allocation, so the size difference is moot.
#[allow(clippy::large_enum_variant)]
pub enum AnyPool<P: PageProvider, L: PoolLock> {
    /// zsmalloc-style pool.
    Zsmalloc(ZsPool<P, L>),
    /// zbud-style pool.
    Zbud(ZbudPool<P, L>),
    /// z3fold-style pool.
    Z3fold(Z3foldPool<P, L>),
}

macro_rules! each {
    ($self:ident, $p:ident => $e:expr) => {
        match $self {
            AnyPool::Zsmalloc($p) => $e,
            AnyPool::Zbud($p) => $e,
            AnyPool::Z3fold($p) => $e,
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
        })
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        match self {
            AnyPool::Zsmalloc(_) => Backend::Zsmalloc,
            AnyPool::Zbud(_) => Backend::Zbud,
            AnyPool::Z3fold(_) => Backend::Z3fold,
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

    /// See [`Zpool::obj_len`].
    pub fn obj_len(&self, handle: Handle) -> usize {
        handle.len()
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
    use super::super::zpool::testing::TestProvider;
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

    #[test]
    fn each_backend_roundtrips() {
        for b in Backend::ALL {
            let tp = TestProvider::new();
            let pool = AnyPool::<_, SpinLockHost>::new(b, &tp).unwrap();
            assert_eq!(pool.name(), b.name());
            let h = pool.alloc(5).unwrap();
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
