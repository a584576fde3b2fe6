//! A WriteRequest → request body: protobuf, then snappy *block* compression (`snap::raw`, not
//! the framed stream format, which receivers reject). A batch is encoded once and its bytes are
//! shared by every retry.

use bytes::Bytes;
use prost::Message;

use super::proto::WriteRequest;

#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    #[error("protobuf encoding failed: {0}")]
    Encode(#[from] prost::EncodeError),
    #[error("snappy compression failed: {0}")]
    Compress(#[from] snap::Error),
    #[error("the request body is not valid protobuf: {0}")]
    Decode(#[from] prost::DecodeError),
}

/// A compressed request body, ready to send (cheap to clone: the bytes are shared).
#[derive(Debug, Clone, PartialEq)]
pub struct EncodedBatch {
    /// Snappy-compressed protobuf.
    pub body: Bytes,
    /// Series in the request.
    pub series: usize,
    /// Samples in the request.
    pub samples: usize,
    /// Protobuf length before compression.
    pub uncompressed_len: usize,
}

/// Encodes batches, reusing its protobuf, compressor and output buffers between calls.
pub struct BatchEncoder {
    proto: Vec<u8>,
    out: Vec<u8>,
    snappy: snap::raw::Encoder,
}

impl std::fmt::Debug for BatchEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchEncoder")
            .field("capacity", &self.proto.capacity())
            .finish()
    }
}

impl Default for BatchEncoder {
    fn default() -> Self {
        Self::new()
    }
}

impl BatchEncoder {
    pub fn new() -> Self {
        Self {
            proto: Vec::new(),
            out: Vec::new(),
            snappy: snap::raw::Encoder::new(),
        }
    }

    pub fn encode(&mut self, request: &WriteRequest) -> Result<EncodedBatch, EncodeError> {
        let mut proto = std::mem::take(&mut self.proto);
        proto.clear();
        proto.reserve(request.encoded_len());
        request.encode(&mut proto)?;
        let series = request.timeseries.len();
        let samples = request.timeseries.iter().map(|s| s.samples.len()).sum();
        let batch = self.compress(&proto, series, samples);
        self.proto = proto;
        batch
    }

    /// Compresses a request body already in protobuf form (built with [`super::wire`]) holding
    /// `series` series and `samples` samples.
    pub fn compress(
        &mut self,
        proto: &[u8],
        series: usize,
        samples: usize,
    ) -> Result<EncodedBatch, EncodeError> {
        // The worst-case buffer is reused (zeroed once, when it grows); only the compressed
        // bytes are copied out.
        let need = snap::raw::max_compress_len(proto.len());
        if self.out.len() < need {
            self.out.resize(need, 0);
        }
        let n = self.snappy.compress(proto, &mut self.out)?;
        Ok(EncodedBatch {
            body: Bytes::copy_from_slice(&self.out[..n]),
            series,
            samples,
            uncompressed_len: proto.len(),
        })
    }
}

/// Decompresses and decodes a request body: what a receiver does (tests, the null receiver).
#[cfg(any(test, feature = "internals"))]
pub fn decode_body(body: &[u8]) -> Result<WriteRequest, EncodeError> {
    let raw = snap::raw::Decoder::new().decompress_vec(body)?;
    Ok(WriteRequest::decode(raw.as_slice())?)
}
