// QEFT and OWQ packed layers in .safetensors, under the buffer names of the repos' QuantLinear
// state dicts (a layer prefix P gives "P.qweight", ...; an empty prefix the bare names):
//
//   QEFT  qweight              I16 [OC/4, IC]
//         scales               F16 [IC/G, OC]
//         scaled_zeros         F16 [IC/G, OC]
//         oweight              F16 [OC, k]        only when k > 0 (QuantLinear has none for k = 0)
//         oweight_interleaved  F16 [OC/2, 2k]     only when k > 0
//         outlieridx           I32 [k]            only when k > 0
//   OWQ   qweight              I32 [IC/32*bits, OC]
//         scales               F16 [OC, 1]
//         zeros                U8  [OC/2, 1]
//         bias                 F16 [OC]           all zero (lowbit packs bias-free layers)
//         oweight              F16 [k, OC]        also for k = 0 ([0, OC]), as QuantLinear registers it
//         outlieridx           I32 [k]
//
// Metadata (written by lowbit; a file without it is read when the shapes decide everything):
// "lowbit.layout" qeft|owq, "lowbit.bits", "lowbit.in_features", "lowbit.out_features",
// "lowbit.group_size" (QEFT; IC for per channel).
#pragma once
#include <optional>
#include <span>
#include <string>

#include "lowbit/formats/weak.hpp"
#include "lowbit/io/safetensors.hpp"

namespace lowbit::io {

// The tensors and metadata of a layer (Error, Errc::invalid, for buffers that do not validate);
// safetensors::write(f.tensors, f.metadata) is the file.
safetensors::File to_file(const qeft::Packed& p, const std::string& prefix = "");
safetensors::File to_file(const owq::Packed& p, const std::string& prefix = "");

// Read and validated (qeft::validate / owq::validate); throws lowbit::Error (Errc::data) naming
// the missing or malformed buffer. OWQ's bit width comes from the metadata or `bits`; without either
// it is an error (the shapes cannot tell 3 from 4 bits).
qeft::Packed qeft_from_file(const safetensors::File& f, const std::string& prefix = "");
owq::Packed owq_from_file(const safetensors::File& f, const std::string& prefix = "", std::optional<int> bits = {});

}  // namespace lowbit::io
