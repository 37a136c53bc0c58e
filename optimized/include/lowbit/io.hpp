// lowbit::io, the file containers of every format (docs/api.md, "io"): NumPy .npy, .safetensors,
// bitsandbytes' Linear4bit tensors and their quant_state JSON, QEFT/OWQ QuantLinear buffers, the
// self-describing .gse stream, and whole Hugging Face checkpoints (io/model.hpp, converted by
// io/convert.hpp). Each container parses and writes byte buffers; read_file and
// write_file move them to and from disk. Every function throws lowbit::Error: Errc::data for
// malformed contents, Errc::io for a file that cannot be read or written, Errc::invalid for bad
// arguments.
#pragma once
#include "lowbit/io/bnb_checkpoint.hpp"
#include "lowbit/io/convert.hpp"
#include "lowbit/io/files.hpp"
#include "lowbit/io/gse_file.hpp"
#include "lowbit/io/model.hpp"
#include "lowbit/io/model_layouts.hpp"
#include "lowbit/io/npy.hpp"
#include "lowbit/io/safetensors.hpp"
#include "lowbit/io/weak_checkpoint.hpp"
