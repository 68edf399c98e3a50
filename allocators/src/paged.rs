//! A fixed-length array whose elements live in provider pages.
//!
//! A pool's per-class state (one lock and list heads per size class) is
//! about 13 KiB in the zsmalloc-style backend. Kept inline, the pool struct
//! would be built on the stack when it is created, and a kernel stack is
//! only 16 KiB. This array keeps the elements in pages taken from the
//! pool's [`PageProvider`], so the pool itself stays a few hundred bytes.
//! The chunked backends keep their list heads (up to 127 words) in one too.
//!
//! Elements never straddle a page: each page holds `PAGE_SIZE / size_of::<T>()`
//! of them, and element `i` is number `i % per_page` of page `i / per_page`.

use core::{marker::PhantomData, mem, ptr::NonNull};

use super::zpool::{PageProvider, PAGE_SIZE};

/// Most pages one array may use: enough for 13 KiB of classes with room to
/// spare, and small enough to keep the array's own footprint to 64 bytes.
const MAX_PAGES: usize = 8;

/// `N` elements of `T` stored in provider pages.
///
/// # Invariants
///
/// `pages[..npages]` are provider pages owned by the array, and each of the
/// `N` elements is initialised at its slot (see the module documentation)
/// until [`PagedArray::release`] drops them and returns the pages.
pub(crate) struct PagedArray<T, const N: usize> {
    pages: [Option<NonNull<u8>>; MAX_PAGES],
    npages: usize,
    _owns: PhantomData<T>,
}

// SAFETY: The array owns its elements like `[T; N]` does.
unsafe impl<T: Send, const N: usize> Send for PagedArray<T, N> {}
// SAFETY: Shared access only hands out `&T`, like `[T; N]`.
unsafe impl<T: Sync, const N: usize> Sync for PagedArray<T, N> {}

impl<T, const N: usize> PagedArray<T, N> {
    /// Elements per page; at least one (checked at compile time below).
    const PER_PAGE: usize = PAGE_SIZE / mem::size_of::<T>();
    /// Pages needed for `N` elements.
    const PAGES: usize = N.div_ceil(Self::PER_PAGE);
    const FITS: () = assert!(
        mem::size_of::<T>() > 0
            && mem::size_of::<T>() <= PAGE_SIZE
            && mem::align_of::<T>() <= PAGE_SIZE
            && N.div_ceil(PAGE_SIZE / mem::size_of::<T>()) <= MAX_PAGES
    );

    /// Builds the array with `init(i)` for each element; `None` if a page
    /// cannot be had or `init` fails (everything taken so far is given back).
    pub(crate) fn new(
        provider: &impl PageProvider,
        mut init: impl FnMut(usize) -> Option<T>,
    ) -> Option<Self> {
        #[allow(clippy::let_unit_value)]
        let () = Self::FITS;
        let mut arr = Self {
            pages: [None; MAX_PAGES],
            npages: 0,
            _owns: PhantomData,
        };
        // Elements initialised so far; on failure exactly these are dropped.
        let mut done = 0;
        let ok = (|| {
            for i in 0..N {
                let (p, k) = Self::slot(i)?;
                if k == 0 {
                    *arr.pages.get_mut(p)? = Some(provider.alloc_page()?);
                    // `p < PAGES <= MAX_PAGES` (`FITS`): no overflow.
                    arr.npages = p + 1;
                }
                let page = (*arr.pages.get(p)?)?;
                let value = init(i)?;
                // SAFETY: Slot `k < PER_PAGE` of our page is in bounds, aligned
                // (size is a multiple of the alignment) and not yet initialised.
                unsafe { page.as_ptr().cast::<T>().add(k).write(value) };
                // `i < N`: no overflow.
                done = i + 1;
            }
            Some(())
        })();
        if ok.is_none() {
            // SAFETY: Exactly the first `done` elements are initialised and
            // the pages came from `provider`.
            unsafe { arr.release_first(done, provider) };
            return None;
        }
        Some(arr)
    }

    /// Page and slot in it of element `i`. `PER_PAGE >= 1` (`FITS`), so
    /// this never fails; checked division costs nothing by a constant.
    fn slot(i: usize) -> Option<(usize, usize)> {
        Some((
            i.checked_div(Self::PER_PAGE)?,
            i.checked_rem(Self::PER_PAGE)?,
        ))
    }

    /// Element `i`, or `None` past the end.
    pub(crate) fn get(&self, i: usize) -> Option<&T> {
        if i >= N {
            return None;
        }
        let (p, k) = Self::slot(i)?;
        let page = (*self.pages.get(p)?)?;
        // SAFETY: By the type invariant element `i` is initialised at slot
        // `k` of page `p`, and it lives as long as `&self` (until `release`).
        Some(unsafe { &*page.as_ptr().cast::<T>().add(k) })
    }

    /// All elements as one slice, if they fit in one page (else `None`).
    pub(crate) fn as_slice(&self) -> Option<&[T]> {
        if Self::PAGES != 1 {
            return None;
        }
        let page = (*self.pages.first()?)?;
        // SAFETY: With one page all `N <= PER_PAGE` elements lie contiguously from its start,
        // initialised (type invariant) and live as long as `&self`.
        Some(unsafe { core::slice::from_raw_parts(page.as_ptr().cast::<T>(), N) })
    }

    /// Pages the array holds (they count toward the pool's total).
    pub(crate) fn pages(&self) -> usize {
        self.npages
    }

    /// Every element in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        (0..N).filter_map(move |i| self.get(i))
    }

    /// Drops the elements and gives the pages back to `provider`.
    ///
    /// # Safety
    ///
    /// `provider` must be the one the array was built with, and the array
    /// must not be used afterwards (only dropped).
    pub(crate) unsafe fn release(&mut self, provider: &impl PageProvider) {
        // SAFETY: By the type invariant all `N` elements are initialised;
        // the caller vouches for `provider`.
        unsafe { self.release_first(N, provider) };
    }

    /// # Safety
    ///
    /// Exactly the first `count` elements are initialised, the pages came
    /// from `provider`, and the array is not used afterwards.
    unsafe fn release_first(&mut self, count: usize, provider: &impl PageProvider) {
        for i in 0..count {
            let Some((p, k)) = Self::slot(i) else {
                break;
            };
            if let Some(Some(page)) = self.pages.get(p) {
                // SAFETY: Element `i` is initialised at slot `k` of page `p`
                // (caller) and dropped once.
                unsafe { page.as_ptr().cast::<T>().add(k).drop_in_place() };
            }
        }
        for page in self.pages.iter_mut().take(self.npages) {
            if let Some(page) = page.take() {
                // SAFETY: The page came from `provider` and nothing refers to
                // it any more.
                unsafe { provider.free_page(page) };
            }
        }
        self.npages = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::super::zpool::testing::HostProvider;
    use super::*;
    use std::sync::atomic::Ordering;

    /// 100-byte elements: 40 to a page, so 100 of them take 3 pages.
    struct Elem([u8; 100]);

    #[test]
    fn elements_stay_in_their_pages() {
        let tp = HostProvider::new();
        let mut arr = PagedArray::<Elem, 100>::new(&&tp, |i| Some(Elem([i as u8; 100]))).unwrap();
        assert_eq!(arr.pages(), 3);
        assert_eq!(tp.held(), 3);
        for i in 0..100 {
            assert_eq!(arr.get(i).map(|e| e.0[99]), Some(i as u8));
        }
        assert!(arr.get(100).is_none());
        assert_eq!(arr.iter().count(), 100);
        assert!(arr.as_slice().is_none());
        // SAFETY: Same provider; not used afterwards.
        unsafe { arr.release(&&tp) };
        assert_eq!(tp.held(), 0);
    }

    #[test]
    fn failures_give_everything_back() {
        let tp = HostProvider::new();
        tp.budget.store(2, Ordering::Relaxed);
        assert!(PagedArray::<Elem, 100>::new(&&tp, |_| Some(Elem([0; 100]))).is_none());
        assert_eq!(tp.held(), 0);
        tp.budget.store(usize::MAX, Ordering::Relaxed);
        let made = std::cell::Cell::new(0);
        let arr = PagedArray::<Elem, 100>::new(&&tp, |i| {
            made.set(made.get() + 1);
            (i < 50).then_some(Elem([0; 100]))
        });
        assert!(arr.is_none());
        assert_eq!(made.get(), 51);
        assert_eq!(tp.held(), 0);
    }
}
