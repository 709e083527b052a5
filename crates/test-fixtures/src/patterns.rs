//! Payloads whose bytes depend on where they sit, so a truncated, shifted or swapped datagram
//! shows.

/// A payload whose bytes depend on its length and a seed, so a mix-up shows.
pub fn pattern(length: usize, seed: u8) -> Vec<u8> {
    (0..length)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 8) as u8)
        .collect()
}

/// The payload `wskctl send --size` sends as datagram `sequence`: the sequence number
/// (little-endian) and then `sequence + i` for byte `i`, cut to `size`. Written independently of
/// wskctl's own code, so its tests check wskctl against this and not against itself.
pub fn send_size_pattern(sequence: u64, size: usize) -> Vec<u8> {
    let mut out = sequence.to_le_bytes().to_vec();
    out.extend((8..size).map(|i| sequence.wrapping_add(i as u64) as u8));
    out.truncate(size);
    out
}
