// libjpeg error handling needs setjmp/longjmp, which Swift cannot call.
// The default error_exit() would call exit(): here it longjmps back and
// the message is handed to the caller instead.
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include "CImageShim.h"

struct shim_err {
    struct jpeg_error_mgr pub;
    jmp_buf jb;
};

static void shim_error_exit(j_common_ptr c) { longjmp(((struct shim_err *)c->err)->jb, 1); }
static void shim_output_message(j_common_ptr c) { (void)c; } // warnings are not printed to stderr

static void copy_message(j_common_ptr c, char *errbuf, size_t errbuf_len) {
    char msg[JMSG_LENGTH_MAX];
    (*c->err->format_message)(c, msg);
    if (errbuf_len > 0) {
        strncpy(errbuf, msg, errbuf_len - 1);
        errbuf[errbuf_len - 1] = 0;
    }
}

// Converts one decoded CMYK row (4 bytes a pixel) to RGB or gray. Photoshop writes CMYK
// inverted (255 = no ink) and marks it with an Adobe segment; plain CMYK stores ink amounts.
static void cmyk_row(const uint8_t *src, uint8_t *dst, int w, int channels, int inverted) {
    for (int x = 0; x < w; x++) {
        int c = src[4 * x], m = src[4 * x + 1], y = src[4 * x + 2], k = src[4 * x + 3];
        if (!inverted) { c = 255 - c; m = 255 - m; y = 255 - y; k = 255 - k; }
        int r = (c * k + 127) / 255, g = (m * k + 127) / 255, b = (y * k + 127) / 255;
        if (channels == 1) {
            dst[x] = (uint8_t)((299 * r + 587 * g + 114 * b + 500) / 1000);
        } else {
            dst[3 * x] = (uint8_t)r; dst[3 * x + 1] = (uint8_t)g; dst[3 * x + 2] = (uint8_t)b;
        }
    }
}

int shim_jpeg_decode(const uint8_t *data, size_t len, int want_channels, uint64_t max_pixels,
                     uint8_t **out_pixels, int *out_w, int *out_h,
                     char *errbuf, size_t errbuf_len) {
    struct jpeg_decompress_struct cinfo;
    struct shim_err jerr;
    uint8_t *volatile pixels = NULL; // assigned after setjmp, freed on the error path
    uint8_t *volatile cmyk = NULL;   // one CMYK row, for CMYK and YCCK images
    *out_pixels = NULL;
    cinfo.err = jpeg_std_error(&jerr.pub);
    jerr.pub.error_exit = shim_error_exit;
    jerr.pub.output_message = shim_output_message;
    if (setjmp(jerr.jb)) {
        copy_message((j_common_ptr)&cinfo, errbuf, errbuf_len);
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        free(cmyk);
        return -1;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)len);
    jpeg_read_header(&cinfo, TRUE);
    // The size is checked before any pixel buffer exists (the header alone can claim 65500x65500).
    if ((uint64_t)cinfo.image_width * (uint64_t)cinfo.image_height > max_pixels) {
        snprintf(errbuf, errbuf_len, "the header declares %ux%u pixels, over the limit of %llu pixels",
                 (unsigned)cinfo.image_width, (unsigned)cinfo.image_height, (unsigned long long)max_pixels);
        jpeg_destroy_decompress(&cinfo);
        return -2;
    }
    int is_cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
    cinfo.out_color_space = is_cmyk ? JCS_CMYK : (want_channels == 1 ? JCS_GRAYSCALE : JCS_RGB);
    jpeg_start_decompress(&cinfo);
    int w = (int)cinfo.output_width, h = (int)cinfo.output_height, c = cinfo.output_components;
    if (c != (is_cmyk ? 4 : want_channels)) {
        snprintf(errbuf, errbuf_len, "decoder produced %d channels, expected %d", c, want_channels);
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }
    pixels = (uint8_t *)malloc((size_t)w * (size_t)h * (size_t)want_channels);
    if (is_cmyk) cmyk = (uint8_t *)malloc((size_t)w * 4);
    if (!pixels || (is_cmyk && !cmyk)) {
        snprintf(errbuf, errbuf_len, "out of memory for a %dx%d image", w, h);
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        free(cmyk);
        return -1;
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = pixels + (size_t)cinfo.output_scanline * (size_t)w * (size_t)want_channels;
        if (is_cmyk) {
            JSAMPROW src = cmyk;
            if (jpeg_read_scanlines(&cinfo, &src, 1) == 1) cmyk_row(cmyk, row, w, want_channels, cinfo.saw_Adobe_marker);
        } else {
            jpeg_read_scanlines(&cinfo, &row, 1);
        }
    }
    jpeg_finish_decompress(&cinfo);
    free(cmyk);
    cmyk = NULL;
    // libjpeg-turbo pads truncated data with gray and only warns; treat that as corruption.
    if (jerr.pub.num_warnings > 0) {
        snprintf(errbuf, errbuf_len, "corrupt or truncated JPEG data (%ld decoder warnings)",
                 jerr.pub.num_warnings);
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        return -1;
    }
    jpeg_destroy_decompress(&cinfo);
    *out_pixels = pixels;
    *out_w = w;
    *out_h = h;
    return 0;
}

int shim_jpeg_encode(const uint8_t *pixels, int w, int h, int channels, int quality,
                     uint8_t **out_data, size_t *out_len,
                     char *errbuf, size_t errbuf_len) {
    return shim_jpeg_encode_ycck(pixels, w, h, channels, quality, 0, out_data, out_len, errbuf, errbuf_len);
}

// As shim_jpeg_encode; with ycck set, 4-channel (CMYK) input is stored as YCCK, the transform
// Adobe applications use for CMYK JPEGs.
int shim_jpeg_encode_ycck(const uint8_t *pixels, int w, int h, int channels, int quality, int ycck,
                          uint8_t **out_data, size_t *out_len,
                          char *errbuf, size_t errbuf_len) {
    struct jpeg_compress_struct cinfo;
    struct shim_err jerr;
    unsigned char *volatile buf = NULL;
    unsigned long size = 0;
    *out_data = NULL;
    *out_len = 0;
    cinfo.err = jpeg_std_error(&jerr.pub);
    jerr.pub.error_exit = shim_error_exit;
    jerr.pub.output_message = shim_output_message;
    if (setjmp(jerr.jb)) {
        copy_message((j_common_ptr)&cinfo, errbuf, errbuf_len);
        jpeg_destroy_compress(&cinfo);
        free(buf);
        return -1;
    }
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, (unsigned char **)&buf, &size);
    cinfo.image_width = (JDIMENSION)w;
    cinfo.image_height = (JDIMENSION)h;
    cinfo.input_components = channels;
    cinfo.in_color_space = channels == 1 ? JCS_GRAYSCALE : (channels == 4 ? JCS_CMYK : JCS_RGB);
    jpeg_set_defaults(&cinfo);
    if (ycck && channels == 4) jpeg_set_colorspace(&cinfo, JCS_YCCK);
    jpeg_set_quality(&cinfo, quality, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(pixels + (size_t)cinfo.next_scanline * (size_t)w * (size_t)channels);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    *out_data = buf;
    *out_len = (size_t)size;
    return 0;
}

void shim_free(void *p) { free(p); }
