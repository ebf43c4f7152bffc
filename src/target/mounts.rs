//! A private mount namespace in which every mount is read-only except the target's
//! sandbox cell and the kernel's own file systems (`/proc`, `/sys`, `/dev`): a target
//! whose command injection runs cannot change the machine it is fuzzed on.
//!
//! The mount table is read in the parent ([`ReadOnlyMounts::new`]); the child only makes
//! system calls with paths prepared beforehand, as code between fork and exec must.

use nix::mount::{mount, MsFlags};
use std::ffi::CString;
use std::io;
use std::path::Path;

/// Mount points under these stay as they are: the kernel's views, devices, shared memory.
const KEPT: &[&str] = &["/proc", "/sys", "/dev"];

/// What the child does to its mounts; see the module documentation.
#[derive(Clone, Debug)]
pub struct ReadOnlyMounts {
    /// The directories that stay writable (each bound onto itself first).
    writable: Vec<CString>,
    /// Every other writable mount point, with the flags a remount must keep.
    mounts: Vec<(CString, MsFlags)>,
}

impl ReadOnlyMounts {
    /// A plan that keeps the `writable` directories writable, from the current mount
    /// table.
    pub fn new(writable: &[&Path]) -> io::Result<ReadOnlyMounts> {
        let table = std::fs::read_to_string("/proc/self/mountinfo")?;
        fn c_string(text: &str) -> io::Result<CString> {
            CString::new(text).map_err(|_| io::Error::other("a path holds a NUL byte"))
        }
        let writable = writable
            .iter()
            .map(|dir| c_string(&dir.display().to_string()))
            .collect::<io::Result<_>>()?;
        let mounts = parse_mountinfo(&table)
            .into_iter()
            .map(|(point, flags)| Ok((c_string(&point)?, flags)))
            .collect::<io::Result<_>>()?;
        Ok(ReadOnlyMounts { writable, mounts })
    }

    /// In the child after `unshare(CLONE_NEWNS)`: stops propagation, binds each writable
    /// directory onto itself, then remounts every other mount read-only. Only system
    /// calls, no allocation. A mount that refuses the remount is left as it is (the
    /// availability probe makes sure the root file system does not refuse).
    pub fn apply_in_child(&self) -> nix::Result<()> {
        let none: Option<&str> = None;
        mount(none, "/", none, MsFlags::MS_REC | MsFlags::MS_PRIVATE, none)?;
        for writable in &self.writable {
            mount(
                Some(writable.as_c_str()),
                writable.as_c_str(),
                none,
                MsFlags::MS_BIND | MsFlags::MS_REC,
                none,
            )?;
        }
        for (point, flags) in &self.mounts {
            let result = mount(
                none,
                point.as_c_str(),
                none,
                MsFlags::MS_REMOUNT | MsFlags::MS_BIND | MsFlags::MS_RDONLY | *flags,
                none,
            );
            if result.is_err() && point.as_bytes() == b"/" {
                return result;
            }
        }
        Ok(())
    }
}

/// The writable mount points of a `/proc/PID/mountinfo` table outside `/proc`, `/sys` and
/// `/dev`, with the per-mount flags (`nosuid`, `nodev`, `noexec`, atime) a read-only
/// remount must keep.
pub fn parse_mountinfo(table: &str) -> Vec<(String, MsFlags)> {
    let mut mounts: Vec<(String, MsFlags)> = Vec::new();
    for line in table.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let (Some(point), Some(options)) = (fields.get(4), fields.get(5)) else {
            continue;
        };
        let point = unescape(point);
        let kept = KEPT.iter().any(|kept| {
            point == *kept
                || point
                    .strip_prefix(kept)
                    .is_some_and(|rest| rest.starts_with('/'))
        });
        let options: Vec<&str> = options.split(',').collect();
        if kept || options.contains(&"ro") {
            continue;
        }
        let mut flags = MsFlags::empty();
        for (name, flag) in [
            ("nosuid", MsFlags::MS_NOSUID),
            ("nodev", MsFlags::MS_NODEV),
            ("noexec", MsFlags::MS_NOEXEC),
            ("noatime", MsFlags::MS_NOATIME),
            ("nodiratime", MsFlags::MS_NODIRATIME),
            ("relatime", MsFlags::MS_RELATIME),
        ] {
            if options.contains(&name) {
                flags |= flag;
            }
        }
        // A point mounted over more than once is remounted once, as its top mount.
        mounts.retain(|(known, _)| *known != point);
        mounts.push((point, flags));
    }
    mounts
}

/// Mountinfo escapes space, tab, newline and backslash as three octal digits.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes.get(i + 1..i + 4).filter(|digits| {
            bytes[i] == b'\\' && digits.iter().all(|digit| (b'0'..=b'7').contains(digit))
        });
        match octal {
            Some(digits) => {
                let value = digits
                    .iter()
                    .fold(0u32, |acc, d| acc * 8 + u32::from(d - b'0'));
                out.push(value as u8);
                i += 4;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writable_mounts_outside_the_kernels_are_listed_with_their_flags() {
        let table = "\
22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:5 - proc proc rw
23 1 0:22 / /sys rw,nosuid shared:6 - sysfs sysfs rw
24 1 0:5 / /dev rw,nosuid shared:2 - devtmpfs udev rw
25 24 0:23 / /dev/shm rw,nosuid,nodev shared:3 - tmpfs tmpfs rw
26 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
27 26 8:2 / /home/a\\040b rw,nosuid,nodev,noatime - ext4 /dev/sda2 rw
28 26 0:30 / /mnt/ro ro,nosuid - tmpfs tmpfs ro
29 26 0:31 / /devices rw - tmpfs tmpfs rw
";
        assert_eq!(
            parse_mountinfo(table),
            vec![
                ("/".to_string(), MsFlags::MS_RELATIME),
                (
                    "/home/a b".to_string(),
                    MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOATIME
                ),
                ("/devices".to_string(), MsFlags::empty()),
            ]
        );
    }

    #[test]
    fn escapes_are_decoded() {
        assert_eq!(unescape("a\\040b\\134c"), "a b\\c");
        assert_eq!(unescape("plain\\x"), "plain\\x");
    }
}
