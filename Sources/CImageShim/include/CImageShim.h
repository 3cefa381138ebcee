#ifndef CIMAGESHIM_H
#define CIMAGESHIM_H
#include <stddef.h>
#include <stdint.h>

/// Decodes a JPEG held in memory to 8-bit pixels with `want_channels` (1 = gray, 3 = RGB);
/// CMYK and YCCK images (Adobe-inverted or not) are converted to RGB or gray.
/// On success returns 0 and a malloc'ed buffer in *out_pixels (caller frees with shim_free).
/// On failure returns -1 and writes libjpeg's message into errbuf (>= 200 bytes); nothing to free.
/// An image of more than `max_pixels` pixels returns -2 before any pixel buffer is allocated.
int shim_jpeg_decode(const uint8_t *data, size_t len, int want_channels, uint64_t max_pixels,
                     uint8_t **out_pixels, int *out_w, int *out_h,
                     char *errbuf, size_t errbuf_len);

/// Encodes 8-bit pixels (channels 1, 3, or 4 for Adobe-inverted CMYK; rows packed) as a baseline JPEG.
/// On success returns 0 and a malloc'ed buffer in *out_data (caller frees with shim_free).
int shim_jpeg_encode(const uint8_t *pixels, int w, int h, int channels, int quality,
                     uint8_t **out_data, size_t *out_len,
                     char *errbuf, size_t errbuf_len);
int shim_jpeg_encode_ycck(const uint8_t *pixels, int w, int h, int channels, int quality, int ycck,
                          uint8_t **out_data, size_t *out_len,
                          char *errbuf, size_t errbuf_len);

void shim_free(void *p);
#endif
