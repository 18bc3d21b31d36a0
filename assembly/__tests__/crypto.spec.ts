import {
  Sha256, sha256, HmacKey, HmacSha256, hmacSha256Hex, md5, hexEncode, equalConstantTime,
} from "../crypto";

function utf8(s: string): ArrayBuffer {
  return String.UTF8.encode(s);
}

function filled(byte: u8, n: i32): ArrayBuffer {
  const buf = new ArrayBuffer(n);
  memory.fill(changetype<usize>(buf), byte, <usize>n);
  return buf;
}

function at(buf: ArrayBuffer): usize {
  return changetype<usize>(buf);
}

function len(buf: ArrayBuffer): usize {
  return <usize>buf.byteLength;
}

function hex(ptr: usize, n: usize): string {
  const out = new ArrayBuffer(<i32>n << 1);
  hexEncode(ptr, n, at(out));
  return String.UTF8.decodeUnsafe(at(out), n << 1);
}

function sha256Hex(msg: ArrayBuffer): string {
  const out = new ArrayBuffer(32);
  sha256(at(msg), len(msg), at(out));
  return hex(at(out), 32);
}

function md5Hex(msg: ArrayBuffer): string {
  const out = new ArrayBuffer(16);
  md5(at(msg), len(msg), at(out));
  return hex(at(out), 16);
}

function hmacHex(key: ArrayBuffer, msg: ArrayBuffer): string {
  const out = new ArrayBuffer(64);
  hmacSha256Hex(new HmacKey(at(key), len(key)), at(msg), len(msg), at(out));
  return String.UTF8.decodeUnsafe(at(out), 64);
}

const PUSHER_SECRET = "7ad3773142a6692b25b8";

describe("hexEncode", () => {
  it("should write two lowercase digits per byte", () => {
    const src = new ArrayBuffer(6);
    const p = at(src);
    store<u8>(p, 0x00, 0);
    store<u8>(p, 0x01, 1);
    store<u8>(p, 0x7f, 2);
    store<u8>(p, 0x80, 3);
    store<u8>(p, 0xab, 4);
    store<u8>(p, 0xff, 5);
    expect(hex(p, 6)).toBe("00017f80abff");
  });

  it("should encode in place when out starts at src", () => {
    const buf = new ArrayBuffer(8);
    const p = at(buf);
    store<u32>(p, 0xefbeadde);
    hexEncode(p, 4, p);
    expect(String.UTF8.decodeUnsafe(p, 8)).toBe("deadbeef");
  });

  it("should write nothing for an empty input", () => {
    expect(hex(0, 0)).toBe("");
  });
});

describe("sha256", () => {
  it("should hash the empty message", () => {
    expect(sha256Hex(utf8(""))).toBe(
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    );
  });

  it("should hash \"abc\"", () => {
    expect(sha256Hex(utf8("abc"))).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
  });

  it("should hash the 448-bit message, whose padding needs a second block", () => {
    expect(sha256Hex(utf8("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))).toBe(
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    );
  });

  it("should hash the 896-bit message", () => {
    expect(sha256Hex(utf8(
      "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno" +
      "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
    ))).toBe("cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  });

  it("should hash one million \"a\"", () => {
    expect(sha256Hex(filled(0x61, 1000000))).toBe(
      "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
    );
  });
});

describe("Sha256", () => {
  it("should match the one-shot digest for every split point of a 130-byte message", () => {
    const msg = new ArrayBuffer(130);
    for (let i = 0; i < 130; i++) store<u8>(at(msg) + <usize>i, <u8>(i * 7 + 3));
    const expected = sha256Hex(msg);
    const out = new ArrayBuffer(32);
    const h = new Sha256();
    for (let split: usize = 0; split <= 130; split++) {
      h.reset();
      h.update(at(msg), split);
      h.update(at(msg) + split, 130 - split);
      h.final(at(out));
      expect(hex(at(out), 32)).toBe(expected, "split at " + split.toString());
    }
  });

  it("should match the one-shot digest when fed one byte at a time", () => {
    const msg = utf8("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq");
    const out = new ArrayBuffer(32);
    const h = new Sha256();
    for (let i: usize = 0; i < len(msg); i++) h.update(at(msg) + i, 1);
    h.final(at(out));
    expect(hex(at(out), 32)).toBe(
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    );
  });

  it("should hash one million \"a\" fed in 1000-byte pieces", () => {
    const piece = filled(0x61, 1000);
    const out = new ArrayBuffer(32);
    const h = new Sha256();
    for (let i = 0; i < 1000; i++) h.update(at(piece), 1000);
    h.final(at(out));
    expect(hex(at(out), 32)).toBe(
      "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
    );
  });

  it("should start over after reset", () => {
    const out = new ArrayBuffer(32);
    const h = new Sha256();
    const junk = utf8("something else entirely");
    h.update(at(junk), len(junk));
    h.final(at(out));
    h.reset();
    const abc = utf8("abc");
    h.update(at(abc), len(abc));
    h.final(at(out));
    expect(hex(at(out), 32)).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
  });
});

describe("HMAC-SHA256 (RFC 4231)", () => {
  it("should pass test case 1 (20-byte key)", () => {
    expect(hmacHex(filled(0x0b, 20), utf8("Hi There"))).toBe(
      "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
    );
  });

  it("should pass test case 2 (key shorter than the output)", () => {
    expect(hmacHex(utf8("Jefe"), utf8("what do ya want for nothing?"))).toBe(
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    );
  });

  it("should pass test case 3 (50 bytes of 0xdd)", () => {
    expect(hmacHex(filled(0xaa, 20), filled(0xdd, 50))).toBe(
      "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
    );
  });

  it("should pass test case 4 (25-byte key 0x01..0x19)", () => {
    const key = new ArrayBuffer(25);
    for (let i = 0; i < 25; i++) store<u8>(at(key) + <usize>i, <u8>(i + 1));
    expect(hmacHex(key, filled(0xcd, 50))).toBe(
      "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
    );
  });

  it("should pass test case 6 (key longer than a block is hashed first)", () => {
    expect(hmacHex(
      filled(0xaa, 131),
      utf8("Test Using Larger Than Block-Size Key - Hash Key First"),
    )).toBe("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  });

  it("should pass test case 7 (key and data longer than a block)", () => {
    expect(hmacHex(
      filled(0xaa, 131),
      utf8(
        "This is a test using a larger than block-size key and a larger than " +
        "block-size data. The key needs to be hashed before being used by the HMAC algorithm.",
      ),
    )).toBe("9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
  });
});

describe("HMAC-SHA256 (Pusher signatures)", () => {
  it("should sign a private channel subscription", () => {
    expect(hmacHex(utf8(PUSHER_SECRET), utf8("1234.1234:private-foobar"))).toBe(
      "58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4",
    );
  });

  it("should sign a user sign-in", () => {
    expect(hmacHex(utf8(PUSHER_SECRET), utf8("1234.1234::user::{\"id\":\"12345\"}"))).toBe(
      "4708d583dada6a56435fb8bc611c77c359a31eebde13337c16ab43aa6de336ba",
    );
  });

  it("should sign a presence subscription streamed from separate pieces", () => {
    const secret = utf8(PUSHER_SECRET);
    const key = new HmacKey(at(secret), len(secret));
    const pieces: ArrayBuffer[] = [
      utf8("1234.1234"), utf8(":"), utf8("presence-foobar"), utf8(":"),
      utf8("{\"user_id\":10,\"user_info\":{\"name\":\"Mr. Channels\"}}"),
    ];
    const mac = new HmacSha256();
    const out = new ArrayBuffer(32);
    // Twice with the same key: begin must restore the midstate each time.
    for (let round = 0; round < 2; round++) {
      mac.begin(key);
      for (let i = 0; i < pieces.length; i++) mac.update(at(pieces[i]), len(pieces[i]));
      mac.final(at(out));
      expect(hex(at(out), 32)).toBe(
        "31935e7d86dba64c2a90aed31fdc61869f9b22ba9d8863bba239c03ca481bc80",
      );
    }
  });

  it("should sign the REST API example", () => {
    expect(hmacHex(
      utf8(PUSHER_SECRET),
      utf8(
        "POST\n/apps/3/events\nauth_key=278d425bdf160c739803&auth_timestamp=1353088179" +
        "&auth_version=1.0&body_md5=ec365a775a4cd0599faeb73354201b6f",
      ),
    )).toBe("da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c");
  });
});

describe("md5", () => {
  it("should pass the RFC 1321 test suite", () => {
    expect(md5Hex(utf8(""))).toBe("d41d8cd98f00b204e9800998ecf8427e");
    expect(md5Hex(utf8("a"))).toBe("0cc175b9c0f1b6a831c399e269772661");
    expect(md5Hex(utf8("abc"))).toBe("900150983cd24fb0d6963f7d28e17f72");
    expect(md5Hex(utf8("message digest"))).toBe("f96b697d7cb7938d525a2f31aaf161d0");
    expect(md5Hex(utf8("abcdefghijklmnopqrstuvwxyz"))).toBe("c3fcd3d76192e4007dfb496cca67e13b");
    expect(md5Hex(utf8("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")))
      .toBe("d174ab98d277d9f5a5611c2c9f419d9f");
    expect(md5Hex(utf8(
      "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
    ))).toBe("57edf4a22be3c955ac49da2e2107b67a");
  });

  it("should hash the Pusher REST example body", () => {
    expect(md5Hex(utf8("{\"name\":\"foo\",\"channels\":[\"project-3\"],\"data\":\"{\\\"some\\\":\\\"data\\\"}\"}")))
      .toBe("ec365a775a4cd0599faeb73354201b6f");
  });
});

describe("equalConstantTime", () => {
  it("should accept equal inputs", () => {
    const a = utf8("58df8b0c36d6982b82c3ecf6b4662e34");
    const b = utf8("58df8b0c36d6982b82c3ecf6b4662e34");
    expect(equalConstantTime(at(a), at(b), len(a))).toBe(true);
  });

  it("should reject inputs differing in the first byte", () => {
    const a = utf8("58df8b0c36d6982b82c3ecf6b4662e34");
    const b = utf8("68df8b0c36d6982b82c3ecf6b4662e34");
    expect(equalConstantTime(at(a), at(b), len(a))).toBe(false);
  });

  it("should reject inputs differing in the last byte", () => {
    const a = utf8("58df8b0c36d6982b82c3ecf6b4662e34");
    const b = utf8("58df8b0c36d6982b82c3ecf6b4662e35");
    expect(equalConstantTime(at(a), at(b), len(a))).toBe(false);
  });

  it("should accept empty inputs", () => {
    expect(equalConstantTime(0, 0, 0)).toBe(true);
  });
});
