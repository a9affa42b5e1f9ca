//! A small, defensive reader of OLE compound files (MS-CFB), the container of `.xls` workbooks
//! and of password-protected (encrypted) `.xlsx` files.
//!
//! It exists so that a file can be checked *before* calamine opens it: calamine parses every
//! sheet of an `.xls` into a dense grid as soon as it opens the file, so a single cell at row
//! 65,535 of column 65,535 would make it allocate hundreds of gigabytes and abort. This module
//! finds streams the way calamine's own (private) reader does — the first directory entry of
//! that name, ASCII case ignored; streams under 4,096 bytes in the mini stream — but refuses
//! loops and out-of-range sectors instead of following them. It must not parse BIFF records
//! beyond what the size check in [`super::xlsx`] needs.

/// End of a sector chain.
const ENDOFCHAIN: u32 = 0xFFFF_FFFE;
/// Sector ids at or above this are markers, not sectors.
const RESERVED_SECTORS: u32 = 0xFFFF_FFFA;
/// A DIFAT sector marker.
const DIFSECT: u32 = 0xFFFF_FFFC;
/// Streams shorter than this live in the mini stream.
const MINI_CUTOFF: u64 = 4096;
/// The compound-file signature.
pub(crate) const MAGIC: [u8; 8] = *b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";

/// An OLE compound file held in memory.
pub(crate) struct Ole<'a> {
    bytes: &'a [u8],
    sector_size: usize,
    max_id: u32,
    fat: Vec<u32>,
    mini_fat: Vec<u32>,
    mini_stream: Vec<u8>,
    /// Directory entries: name, first sector, length.
    entries: Vec<(String, u32, u64)>,
}

fn u16_at(b: &[u8], i: usize) -> u16 {
    u16::from_le_bytes([b[i], b[i + 1]])
}

fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

fn u32s(b: &[u8]) -> impl Iterator<Item = u32> + '_ {
    b.chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
}

impl<'a> Ole<'a> {
    /// Reads the header, the allocation tables and the directory.
    pub(crate) fn parse(bytes: &'a [u8]) -> Result<Ole<'a>, String> {
        if bytes.len() < 512 || bytes[..8] != MAGIC {
            return Err("the OLE header is incomplete".into());
        }
        let sector_size = match u16_at(bytes, 30) {
            9 => 512usize,
            12 => 4096,
            s => return Err(format!("the OLE sector size 2^{s} is invalid")),
        };
        if u16_at(bytes, 32) != 6 {
            return Err("the OLE mini sector size is invalid".into());
        }
        let max_id = (bytes.len() / sector_size) as u32;
        let mut ole = Ole {
            bytes,
            sector_size,
            max_id,
            fat: vec![],
            mini_fat: vec![],
            mini_stream: vec![],
            entries: vec![],
        };
        // The sector allocation table: its sectors are listed in the header and the DIFAT chain.
        let mut difat: Vec<u32> = u32s(&bytes[76..512]).collect();
        let mut id = u32_at(bytes, 68);
        let mut steps = 0u32;
        while id < RESERVED_SECTORS {
            steps += 1;
            if steps > max_id.saturating_add(1) {
                return Err("the OLE allocation table chain loops".into());
            }
            difat.extend(u32s(ole.sector(id)?));
            id = difat.pop().ok_or("the OLE allocation table is empty")?;
        }
        // A file of n sectors needs at most n allocation-table sectors; more (the same sector
        // listed over and over) would make a reader build a table far larger than the file.
        let fat_sectors: Vec<u32> = difat.into_iter().filter(|id| *id < DIFSECT).collect();
        if fat_sectors.len() as u64 > max_id as u64 + 1 {
            return Err("the OLE allocation table lists more sectors than the file has".into());
        }
        let mut fat = Vec::new();
        for id in fat_sectors {
            fat.extend(u32s(ole.sector(id)?));
        }
        ole.fat = fat;
        let dirs = ole.chain(u32_at(bytes, 48), u64::MAX, false)?;
        for c in dirs.chunks_exact(128) {
            let units: Vec<u16> = c[..64]
                .chunks_exact(2)
                .map(|p| u16::from_le_bytes([p[0], p[1]]))
                .collect();
            let mut name = String::from_utf16_lossy(&units);
            if let Some(l) = name.find('\0') {
                name.truncate(l);
            }
            let len = if sector_size == 512 {
                u32_at(c, 120) as u64
            } else {
                u64::from_le_bytes(c[120..128].try_into().unwrap_or([0; 8]))
            };
            ole.entries.push((name, u32_at(c, 116), len));
        }
        let Some(&(_, root_start, root_len)) = ole.entries.first() else {
            return Err("the OLE directory is empty".into());
        };
        let mini_fat_len = u32_at(bytes, 64) as u64;
        if mini_fat_len > 0 {
            ole.mini_stream = ole.chain(root_start, root_len, false)?;
            let mini_fat = ole.chain(
                u32_at(bytes, 60),
                mini_fat_len.saturating_mul(sector_size as u64),
                false,
            )?;
            ole.mini_fat = u32s(&mini_fat).collect();
        }
        Ok(ole)
    }

    /// True when the directory has an entry of that name (ASCII case ignored).
    pub(crate) fn has(&self, name: &str) -> bool {
        self.entries
            .iter()
            .any(|(n, _, _)| n.eq_ignore_ascii_case(name))
    }

    /// The content of the first stream of that name, `None` when there is none.
    pub(crate) fn stream(&self, name: &str) -> Result<Option<Vec<u8>>, String> {
        let Some(&(_, start, len)) = self
            .entries
            .iter()
            .find(|(n, _, _)| n.eq_ignore_ascii_case(name))
        else {
            return Ok(None);
        };
        self.chain(start, len, len < MINI_CUTOFF).map(Some)
    }

    /// One regular sector (shorter at the end of the file).
    fn sector(&self, id: u32) -> Result<&'a [u8], String> {
        if id > self.max_id {
            return Err(format!("OLE sector {id} lies past the end of the file"));
        }
        let start = (id as usize + 1) * self.sector_size;
        let end = (start + self.sector_size).min(self.bytes.len());
        Ok(self.bytes.get(start..end).unwrap_or(&[]))
    }

    /// Follows a sector chain for at most `len` bytes; a chain longer than the file has
    /// sectors loops, and is refused.
    fn chain(&self, mut id: u32, len: u64, mini: bool) -> Result<Vec<u8>, String> {
        let (size, fat, limit) = if mini {
            (64usize, &self.mini_fat, self.max_id.saturating_mul(8))
        } else {
            (self.sector_size, &self.fat, self.max_id)
        };
        let mut out = Vec::new();
        let mut steps = 0u32;
        while id != ENDOFCHAIN {
            steps += 1;
            if steps > limit.saturating_add(2) {
                return Err("an OLE sector chain loops".into());
            }
            let sector = if mini {
                if id > limit {
                    return Err(format!("OLE mini sector {id} lies past the end"));
                }
                let start = (id as usize).saturating_mul(size);
                let end = start.saturating_add(size).min(self.mini_stream.len());
                self.mini_stream.get(start..end).unwrap_or(&[])
            } else {
                self.sector(id)?
            };
            let remaining = len.saturating_sub(out.len() as u64);
            let take = (sector.len() as u64).min(remaining) as usize;
            out.extend_from_slice(&sector[..take]);
            if out.len() as u64 >= len {
                break;
            }
            id = *fat
                .get(id as usize)
                .ok_or_else(|| format!("OLE sector {id} is not in the allocation table"))?;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A compound file with 512-byte sectors: sector 0 the FAT, sector 1 the directory,
    /// sector 2.. a 4,096-byte stream "Workbook" (so not in the mini stream).
    fn tiny(fat_tail: u32) -> Vec<u8> {
        let mut f = vec![0u8; 512];
        f[..8].copy_from_slice(&MAGIC);
        f[26] = 3;
        f[30] = 9;
        f[32] = 6;
        f[44] = 1; // one FAT sector
        f[48..52].copy_from_slice(&1u32.to_le_bytes()); // directory at sector 1
        f[60..64].copy_from_slice(&ENDOFCHAIN.to_le_bytes());
        f[68..72].copy_from_slice(&ENDOFCHAIN.to_le_bytes());
        for i in 0..109 {
            let v = if i == 0 { 0 } else { 0xFFFF_FFFF };
            f[76 + 4 * i..80 + 4 * i].copy_from_slice(&u32::to_le_bytes(v));
        }
        let mut fat = vec![0xFFFF_FFFDu32, ENDOFCHAIN];
        fat.extend(3..10); // sectors 2..9 chain to the next
        fat.push(fat_tail); // sector 9 ends (or loops)
        fat.resize(128, 0xFFFF_FFFF);
        for v in fat {
            f.extend(v.to_le_bytes());
        }
        let mut dir = vec![0u8; 512];
        for (slot, (name, start, len)) in [("Root Entry", ENDOFCHAIN, 0u32), ("Workbook", 2, 4096)]
            .iter()
            .enumerate()
        {
            let e = &mut dir[slot * 128..(slot + 1) * 128];
            for (i, u) in name.encode_utf16().enumerate() {
                e[2 * i..2 * i + 2].copy_from_slice(&u.to_le_bytes());
            }
            e[116..120].copy_from_slice(&start.to_le_bytes());
            e[120..124].copy_from_slice(&len.to_le_bytes());
        }
        f.extend(dir);
        f.extend((0..4096).map(|i| (i % 251) as u8));
        f
    }

    #[test]
    fn a_stream_is_found_by_name() {
        let bytes = tiny(ENDOFCHAIN);
        let ole = Ole::parse(&bytes).unwrap();
        assert!(ole.has("workbook"));
        let s = ole.stream("Workbook").unwrap().unwrap();
        assert_eq!(s.len(), 4096);
        assert_eq!(s[300], (300 % 251) as u8);
        assert!(ole.stream("Book").unwrap().is_none());
    }

    #[test]
    fn a_looping_chain_is_refused_not_followed() {
        // Sector 9 points back to sector 2, and the directory claims 4 GiB: calamine would
        // follow the loop until it had copied 4 GiB.
        let mut bytes = tiny(2);
        let dir = 512 + 512;
        bytes[dir + 128 + 120..dir + 128 + 124].copy_from_slice(&u32::MAX.to_le_bytes());
        let ole = Ole::parse(&bytes).unwrap();
        assert!(ole.stream("Workbook").unwrap_err().contains("loops"));
        assert!(Ole::parse(&bytes[..300]).is_err());
    }
}
