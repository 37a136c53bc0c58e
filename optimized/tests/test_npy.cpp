// The .npy reader/writer: round trips of every dtype, version 2.0/3.0 headers, malformed files.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "lowbit/io/npy.hpp"

namespace npy = lowbit::io::npy;

namespace {

std::vector<std::uint8_t> file(unsigned major, const std::string& header, std::vector<std::uint8_t> data = {}) {
  std::vector<std::uint8_t> f{0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<std::uint8_t>(major), 0};
  const std::size_t n = header.size();
  f.push_back(static_cast<std::uint8_t>(n));
  f.push_back(static_cast<std::uint8_t>(n >> 8));
  if (major != 1) {
    f.push_back(static_cast<std::uint8_t>(n >> 16));
    f.push_back(static_cast<std::uint8_t>(n >> 24));
  }
  f.insert(f.end(), header.begin(), header.end());
  f.insert(f.end(), data.begin(), data.end());
  return f;
}

std::string message(const std::vector<std::uint8_t>& f) {
  try {
    lowbit::io::npy::parse(f);
  } catch (const lowbit::Error& e) {
    EXPECT_EQ(e.code(), lowbit::Errc::data) << e.what();
    return e.what();
  }
  return "accepted";
}

template <class T> void round_trip(const char* descr, std::vector<T> v) {
  const lowbit::io::npy::Array a = lowbit::io::npy::make_array(descr, v);
  const std::vector<std::uint8_t> b = lowbit::io::npy::serialize(a);
  EXPECT_EQ(b[6], 1) << descr;
  const std::size_t hlen = b[8] | (b[9] << 8);
  EXPECT_EQ((10 + hlen) % 64, 0u) << descr;  // data aligned as numpy aligns it
  EXPECT_EQ(b[10 + hlen - 1], '\n');
  const lowbit::io::npy::Array back = lowbit::io::npy::parse(b);
  EXPECT_EQ(back, a) << descr;
  EXPECT_EQ(back.values<T>(), v) << descr;
}

}  // namespace

TEST(Npy, RoundTripEveryDtype) {
  round_trip<float>("<f4", {1.0f, -2.5f, 3e38f});
  round_trip<double>("<f8", {1.0, -0.0, 1e-300});
  round_trip<std::uint16_t>("<f2", {0x3C00, 0x7E00});
  round_trip<std::uint8_t>("|u1", {0, 0x7F, 0xFF});
  round_trip<std::uint16_t>("<u2", {0, 0xFFFF});
  round_trip<std::uint32_t>("<u4", {0x7F7FFFFF, 0xFFFFFFFF});
  round_trip<std::int32_t>("<i4", {-1, 2147483647});
  round_trip<std::int8_t>("|i1", {-128, 127});
  round_trip<std::int16_t>("<i2", {-32768, 1});
  round_trip<std::uint8_t>("|u1", {});
}

TEST(Npy, ExactlyAsNumpyWrites) {
  // np.save(f, np.array([1, 2, 3], dtype=np.uint8)): header length 118, data at 128.
  const std::vector<std::uint8_t> b = lowbit::io::npy::serialize(lowbit::io::npy::make_array<std::uint8_t>("|u1", {1, 2, 3}));
  ASSERT_EQ(b.size(), 131u);
  EXPECT_EQ(b[8], 118);
  EXPECT_EQ(b[9], 0);
  const std::string h(b.begin() + 10, b.begin() + 128);
  EXPECT_EQ(h.substr(0, 57), "{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }");
  EXPECT_EQ(h.find_first_not_of(' ', 57), 117u);
}

TEST(Npy, ShapesAndScalars) {
  lowbit::io::npy::Array a = lowbit::io::npy::make_array<std::int32_t>("<i4", {1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(lowbit::io::npy::header_dict(a), "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }");
  EXPECT_EQ(lowbit::io::npy::parse(lowbit::io::npy::serialize(a)), a);
  const lowbit::io::npy::Array s = lowbit::io::npy::parse(file(1, "{'descr': '<u4', 'fortran_order': False, 'shape': (), }\n", {1, 0, 0, 0}));
  EXPECT_TRUE(s.shape.empty());
  EXPECT_EQ(s.values<std::uint32_t>(), std::vector<std::uint32_t>{1});
  const lowbit::io::npy::Array z = lowbit::io::npy::parse(file(1, "{'descr':'<f4','fortran_order':False,'shape':(0, 5)}\n"));
  EXPECT_EQ(z.size(), 0u);
}

TEST(Npy, Version2And3Headers) {
  const std::string h = "{'descr': '<u2', 'fortran_order': False, 'shape': (2,), }      \n";
  const lowbit::io::npy::Array v2 = lowbit::io::npy::parse(file(2, h, {1, 0, 2, 0}));
  EXPECT_EQ(v2.values<std::uint16_t>(), (std::vector<std::uint16_t>{1, 2}));
  const lowbit::io::npy::Array v3 = lowbit::io::npy::parse(file(3, h, {1, 0, 2, 0}));
  EXPECT_EQ(v3, v2);
  // Key order is free, "<u1" is "|u1", double quotes are fine.
  const lowbit::io::npy::Array u = lowbit::io::npy::parse(file(1, "{\"shape\": (1,), \"fortran_order\": False, \"descr\": \"<u1\"}\n", {7}));
  EXPECT_EQ(u.descr, "|u1");
  // A header over 65535 bytes is written as 2.0 and read back.
  lowbit::io::npy::Array big = lowbit::io::npy::make_array<std::uint8_t>("|u1", std::vector<std::uint8_t>(1, 9));
  big.shape = std::vector<std::uint64_t>(30000, 1);
  const std::vector<std::uint8_t> b = lowbit::io::npy::serialize(big);
  EXPECT_EQ(b[6], 2);
  EXPECT_EQ(lowbit::io::npy::parse(b), big);
}

TEST(Npy, MalformedRejected) {
  const std::string ok = "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }\n";
  const std::vector<std::uint8_t> four{0, 0, 128, 63};
  EXPECT_EQ(message(file(1, ok, four)), "accepted");
  std::vector<std::uint8_t> bad_magic = file(1, ok, four);
  bad_magic[1] = 'n';
  EXPECT_NE(message(bad_magic).find("bad magic"), std::string::npos);
  EXPECT_NE(message({0x93, 'N', 'U'}).find("bad magic"), std::string::npos);
  EXPECT_NE(message(file(4, ok, four)).find("bad version"), std::string::npos);
  std::vector<std::uint8_t> minor = file(1, ok, four);
  minor[7] = 1;
  EXPECT_NE(message(minor).find("bad version"), std::string::npos);
  std::vector<std::uint8_t> trunc = file(1, ok, four);
  trunc[8] = 0xFF;
  trunc[9] = 0xFF;
  EXPECT_NE(message(trunc).find("truncated header"), std::string::npos);
  EXPECT_NE(message(file(1, "['descr', '<f4']\n", four)).find("not a dict"), std::string::npos);
  EXPECT_NE(message(file(1, "{'descr': '<f4', 'shape': (1,)}\n", four)).find("not a dict"), std::string::npos);
  EXPECT_NE(message(file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}\n", four)).find("not a dict"), std::string::npos);
  EXPECT_NE(message(file(1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}\n", four)).find("duplicate"), std::string::npos);
  EXPECT_NE(message(file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1)}\n", four)).find("not a dict"), std::string::npos);
  EXPECT_NE(message(file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}\n", four)).find("not a dict"), std::string::npos);
  EXPECT_NE(message(file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} x\n", four)).find("not a dict"), std::string::npos);
  EXPECT_NE(message(file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", four)).find("newline"), std::string::npos);
  EXPECT_NE(message(file(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }\n", four)).find("fortran_order True"), std::string::npos);
  for (const char* d : {">f4", "<c8", "|O", "<U3", "<u8", "|b1", "<f4 "})
    EXPECT_NE(message(file(1, std::string("{'descr': '") + d + "', 'fortran_order': False, 'shape': (1,), }\n", four)).find("unsupported dtype"), std::string::npos) << d;
  // Element count overflow, byte count overflow, and a dimension too long for 64 bits: no allocation.
  EXPECT_NE(message(file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }\n")).find("overflow"), std::string::npos);
  EXPECT_NE(message(file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904,), }\n")).find("overflow"), std::string::npos);
  EXPECT_NE(message(file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }\n")).find("overflow"), std::string::npos);
  EXPECT_NE(message(file(1, ok, {0, 0, 128})).find("data size mismatch"), std::string::npos);
  EXPECT_NE(message(file(1, ok, {0, 0, 128, 63, 0})).find("data size mismatch"), std::string::npos);
  EXPECT_NE(message(file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000,), }\n", four)).find("data size mismatch"), std::string::npos);
  std::string non_ascii = ok;
  non_ascii[12] = static_cast<char>(0xC3);
  EXPECT_NE(message(file(1, non_ascii, four)).find("ASCII"), std::string::npos);
}

TEST(Npy, FilesAndErrorsNameThePath) {
  const std::string path = ::testing::TempDir() + "lowbit_npy_test.npy";
  const lowbit::io::npy::Array a = lowbit::io::npy::make_array<std::uint32_t>("<u4", {1, 2, 3});
  lowbit::io::npy::write(path, a);
  EXPECT_EQ(lowbit::io::npy::read(path), a);
  lowbit::io::npy::write_bytes(path, std::vector<std::uint8_t>{1, 2, 3});
  try {
    lowbit::io::npy::read(path);
    FAIL();
  } catch (const lowbit::Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos);
    EXPECT_EQ(e.code(), lowbit::Errc::data);
  }
  try {
    lowbit::io::npy::read(path + ".missing");
    FAIL();
  } catch (const lowbit::Error& e) {
    EXPECT_EQ(e.code(), lowbit::Errc::io) << e.what();
  }
  EXPECT_THROW(lowbit::io::npy::make_array<std::uint32_t>("|u1", {1}), lowbit::Error);
}

TEST(Npy, TruncationsAndByteFlipsNeverCrash) {
  const std::vector<std::uint8_t> good = lowbit::io::npy::serialize(lowbit::io::npy::make_array<std::uint16_t>("<u2", {1, 2, 3, 4}, {2, 2}));
  for (std::size_t n = 0; n < good.size(); ++n)  // every proper prefix is malformed
    EXPECT_THROW(lowbit::io::npy::parse(std::span(good.data(), n)), lowbit::Error) << n;
  std::uint64_t s = 12345;
  for (int t = 0; t < 20000; ++t) {
    std::vector<std::uint8_t> f = good;
    for (int k = 0; k < 3; ++k) {
      s = s * 6364136223846793005ull + 1442695040888963407ull;
      f[(s >> 33) % f.size()] = static_cast<std::uint8_t>(s >> 20);
    }
    try {
      const lowbit::io::npy::Array a = lowbit::io::npy::parse(f);
      EXPECT_EQ(a.bytes.size(), a.size() * lowbit::io::npy::find_dtype(a.descr)->size);
    } catch (const lowbit::Error&) {
    }
  }
}
