//! Decoding without copying: byte strings that share the buffer they were
//! decoded from.
//!
//! serde gives a type's `Deserialize` only a borrowed `&[u8]` (a codec such
//! as [`Binary`](crate::Binary) borrows it from the input), so a type that
//! wants to keep bytes must copy them, one allocation per byte string. When
//! the input is itself a shared buffer ([`Bytes`]), the caller decodes
//! inside [`decode_in`] and a type that understands this (rolecall's
//! ZeroMQ frames) calls [`share`] on what it borrowed: a slice of the
//! source comes back as a view of it (a reference count, no copy); anything
//! else is copied as before. The source stays alive as long as a view of it
//! does.
//!
//! A cross-node hop decodes a whole batch of messages from one received
//! buffer this way: no allocation per message.

use std::cell::Cell;

use bytes::Bytes;

thread_local! {
    /// The buffer being decoded on this thread, if a caller said so. A
    /// `Cell` (taken and put back) rather than a `RefCell`: [`share`] runs
    /// once per decoded byte string, and this halves its cost (measured:
    /// 36 → 20 ns, `docs/performance.md`, "FlatBuffers read in place").
    static SOURCE: Cell<Option<Bytes>> = const { Cell::new(None) };
}

/// Runs `decode` (one or more codec calls on slices of `source`) with
/// `source` as this thread's shared source; nests (the outer source is put
/// back afterwards, also when `decode` panics).
pub fn decode_in<R>(source: &Bytes, decode: impl FnOnce() -> R) -> R {
    struct Restore(Option<Bytes>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            SOURCE.with(|s| s.set(previous));
        }
    }
    let previous = SOURCE.with(|s| s.replace(Some(source.clone())));
    let _restore = Restore(previous);
    decode()
}

/// `slice` as shared bytes: a view of the current source when `slice` lies
/// inside it (see [`decode_in`]), a copy otherwise.
pub fn share(slice: &[u8]) -> Bytes {
    SOURCE
        .with(|s| {
            // Taken out and put back below; nothing in between can re-enter.
            let source = s.take()?;
            let offset = (slice.as_ptr() as usize).wrapping_sub(source.as_ptr() as usize);
            let inside = slice.as_ptr() >= source.as_ptr()
                && offset
                    .checked_add(slice.len())
                    .is_some_and(|end| end <= source.len());
            let view = inside.then(|| source.slice(offset..offset + slice.len()));
            s.set(Some(source));
            view
        })
        .unwrap_or_else(|| Bytes::copy_from_slice(slice))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slice_of_the_source_is_shared_and_anything_else_copied() {
        let source = Bytes::from(vec![1u8, 2, 3, 4, 5]);
        let elsewhere = vec![2u8, 3];
        let (inside, outside) = decode_in(&source, || (share(&source[1..3]), share(&elsewhere)));
        assert_eq!(&inside[..], &[2, 3]);
        assert_eq!(inside.as_ptr(), source[1..].as_ptr(), "a view, not a copy");
        assert_eq!(&outside[..], &[2, 3]);
        assert_ne!(outside.as_ptr(), elsewhere.as_ptr());
        // Outside decode_in nothing is shared.
        let copied = share(&source[1..3]);
        assert_ne!(copied.as_ptr(), source[1..].as_ptr());
    }

    #[test]
    fn sources_nest_and_are_put_back() {
        let outer = Bytes::from(vec![9u8; 8]);
        let inner = Bytes::from(vec![7u8; 8]);
        decode_in(&outer, || {
            decode_in(&inner, || {
                assert_eq!(share(&inner[2..4]).as_ptr(), inner[2..].as_ptr());
                assert_ne!(share(&outer[2..4]).as_ptr(), outer[2..].as_ptr());
            });
            assert_eq!(share(&outer[2..4]).as_ptr(), outer[2..].as_ptr());
        });
        assert!(SOURCE.with(|s| s.take().is_none()));
    }

    #[test]
    fn an_empty_slice_is_fine_anywhere() {
        let source = Bytes::from(vec![1u8, 2]);
        decode_in(&source, || {
            assert!(share(&source[2..]).is_empty());
            assert!(share(&[]).is_empty());
        });
    }
}
