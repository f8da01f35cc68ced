/* PoST labels on an OpenCL device: one label per work item.
 *
 * label(i) = scrypt-jane(Keccak-512, ChaCha20/8; N, r = 1, p = 1)(password = commitment || LE64(i)
 * || 0^32, salt = "", dkLen = 32) -- the function of post-rs src/initialize.rs and of our C core,
 * written from the spec (post.md section 2) after the design of post-rs scrypt-ocl/src/scrypt-jane.cl
 * (spacemeshos/post-rs@a2d155a2a1c13c59559737634262b67686e503b1): PBKDF2 and the final PBKDF2 in
 * private memory, the ROMix table V (N x 128 bytes) per work item in a global scratch buffer.
 * Every work item writes its whole 32-byte label; the host keeps the first 16 and searches the
 * VRF minimum over the whole ones.
 */

#define RATE 72          /* Keccak-512 rate in bytes (original Keccak padding 0x01 .. 0x80) */
#define BLOCK_WORDS 32   /* 2r x 64 bytes = 128 bytes = 32 uints for r = 1 */

__constant ulong RC[24] = {
    0x0000000000000001UL, 0x0000000000008082UL, 0x800000000000808AUL, 0x8000000080008000UL,
    0x000000000000808BUL, 0x0000000080000001UL, 0x8000000080008081UL, 0x8000000000008009UL,
    0x000000000000008AUL, 0x0000000000000088UL, 0x0000000080008009UL, 0x000000008000000AUL,
    0x000000008000808BUL, 0x800000000000008BUL, 0x8000000000008089UL, 0x8000000000008003UL,
    0x8000000000008002UL, 0x8000000000000080UL, 0x000000000000800AUL, 0x800000008000000AUL,
    0x8000000080008081UL, 0x8000000000008080UL, 0x0000000080000001UL, 0x8000000080008008UL};

/* rotation offsets and the pi permutation, lane index x + 5y */
__constant uint ROT[25] = {0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39,
                           41, 45, 15, 21, 8, 18, 2, 61, 56, 14};

static void keccak_f(ulong *a) {
  ulong b[25], c[5], d[5];
  for (uint round = 0; round < 24; round++) {
    for (uint x = 0; x < 5; x++) c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];
    for (uint x = 0; x < 5; x++) d[x] = c[(x + 4) % 5] ^ rotate(c[(x + 1) % 5], 1UL);
    for (uint i = 0; i < 25; i++) a[i] ^= d[i % 5];
    for (uint x = 0; x < 5; x++)
      for (uint y = 0; y < 5; y++)
        b[y + 5 * ((2 * x + 3 * y) % 5)] = rotate(a[x + 5 * y], (ulong)ROT[x + 5 * y]);
    for (uint y = 0; y < 5; y++)
      for (uint x = 0; x < 5; x++)
        a[x + 5 * y] = b[x + 5 * y] ^ (~b[(x + 1) % 5 + 5 * y] & b[(x + 2) % 5 + 5 * y]);
    a[0] ^= RC[round];
  }
}

/* Keccak-512 of msg[0..len) (len <= 216), 64 bytes out */
static void keccak512(const uchar *msg, uint len, uchar *out) {
  ulong a[25];
  uchar block[RATE];
  for (uint i = 0; i < 25; i++) a[i] = 0;
  uint off = 0;
  for (;;) {
    uint take = min((uint)RATE, len - off);
    for (uint i = 0; i < RATE; i++) block[i] = i < take ? msg[off + i] : 0;
    bool last = take < RATE;
    if (last) {
      block[take] = 0x01;
      block[RATE - 1] |= 0x80;
    }
    for (uint i = 0; i < RATE / 8; i++) {
      ulong lane = 0;
      for (uint k = 0; k < 8; k++) lane |= (ulong)block[8 * i + k] << (8 * k);
      a[i] ^= lane;
    }
    keccak_f(a);
    off += take;
    if (last) break;
  }
  for (uint i = 0; i < 8; i++)
    for (uint k = 0; k < 8; k++) out[8 * i + k] = (uchar)(a[i] >> (8 * k));
}

/* one PBKDF2-HMAC-Keccak-512 block: HMAC(key72, salt || BE32(counter)); key is exactly 72 bytes */
static void pbkdf2_block(const uchar *key, const uchar *salt, uint salt_len, uint counter, uchar *out) {
  uchar buf[RATE + 128 + 4];
  uchar inner[64];
  for (uint i = 0; i < RATE; i++) buf[i] = key[i] ^ 0x36;
  for (uint i = 0; i < salt_len; i++) buf[RATE + i] = salt[i];
  buf[RATE + salt_len + 0] = (uchar)(counter >> 24);
  buf[RATE + salt_len + 1] = (uchar)(counter >> 16);
  buf[RATE + salt_len + 2] = (uchar)(counter >> 8);
  buf[RATE + salt_len + 3] = (uchar)counter;
  keccak512(buf, RATE + salt_len + 4, inner);
  for (uint i = 0; i < RATE; i++) buf[i] = key[i] ^ 0x5c;
  for (uint i = 0; i < 64; i++) buf[RATE + i] = inner[i];
  keccak512(buf, RATE + 64, out);
}

#define QR(a, b, c, d)                       \
  x[a] += x[b]; x[d] = rotate(x[d] ^ x[a], 16U); \
  x[c] += x[d]; x[b] = rotate(x[b] ^ x[c], 12U); \
  x[a] += x[b]; x[d] = rotate(x[d] ^ x[a], 8U);  \
  x[c] += x[d]; x[b] = rotate(x[b] ^ x[c], 7U);

static void chacha8(uint *s) {
  uint x[16];
  for (uint i = 0; i < 16; i++) x[i] = s[i];
  for (uint i = 0; i < 4; i++) {
    QR(0, 4, 8, 12) QR(1, 5, 9, 13) QR(2, 6, 10, 14) QR(3, 7, 11, 15)
    QR(0, 5, 10, 15) QR(1, 6, 11, 12) QR(2, 7, 8, 13) QR(3, 4, 9, 14)
  }
  for (uint i = 0; i < 16; i++) s[i] += x[i];
}

/* BlockMix for r = 1, optionally xoring a table entry in first: B = mix(B ^ V) */
static void block_mix(uint *b, __global const uint *v) {
  uint x[16];
  if (v) for (uint i = 0; i < BLOCK_WORDS; i++) b[i] ^= v[i];
  for (uint i = 0; i < 16; i++) x[i] = b[16 + i] ^ b[i];
  chacha8(x);
  for (uint i = 0; i < 16; i++) b[i] = x[i];
  for (uint i = 0; i < 16; i++) x[i] ^= b[16 + i];
  chacha8(x);
  for (uint i = 0; i < 16; i++) b[16 + i] = x[i];
}

__kernel void labels(__constant const uchar *commitment, const ulong start, const uint n,
                     __global uint *scratch, __global uchar *out) {
  const size_t gid = get_global_id(0);
  const ulong index = start + gid;
  __global uint *v = scratch + (size_t)gid * n * BLOCK_WORDS;
  uchar password[RATE];
  for (uint i = 0; i < 32; i++) password[i] = commitment[i];
  for (uint i = 0; i < 8; i++) password[32 + i] = (uchar)(index >> (8 * i));
  for (uint i = 40; i < RATE; i++) password[i] = 0;

  uchar bytes[128];
  pbkdf2_block(password, bytes, 0, 1, bytes);
  pbkdf2_block(password, bytes, 0, 2, bytes + 64);
  uint b[BLOCK_WORDS];
  for (uint i = 0; i < BLOCK_WORDS; i++)
    b[i] = bytes[4 * i] | (uint)bytes[4 * i + 1] << 8 | (uint)bytes[4 * i + 2] << 16 | (uint)bytes[4 * i + 3] << 24;

  for (uint i = 0; i < n; i++) {
    for (uint k = 0; k < BLOCK_WORDS; k++) v[i * BLOCK_WORDS + k] = b[k];
    block_mix(b, 0);
  }
  for (uint i = 0; i < n; i++) {
    uint j = b[16] & (n - 1);
    block_mix(b, v + j * BLOCK_WORDS);
  }

  for (uint i = 0; i < BLOCK_WORDS; i++) {
    bytes[4 * i] = (uchar)b[i];
    bytes[4 * i + 1] = (uchar)(b[i] >> 8);
    bytes[4 * i + 2] = (uchar)(b[i] >> 16);
    bytes[4 * i + 3] = (uchar)(b[i] >> 24);
  }
  uchar label[64];
  pbkdf2_block(password, bytes, 128, 1, label);
  for (uint i = 0; i < 32; i++) out[gid * 32 + i] = label[i];
}
