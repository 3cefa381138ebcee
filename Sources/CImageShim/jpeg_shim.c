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

int shim_jpeg_decode(const uint8_t *data, size_t len, int want_channels,
                     uint8_t **out_pixels, int *out_w, int *out_h,
                     char *errbuf, size_t errbuf_len) {
    struct jpeg_decompress_struct cinfo;
    struct shim_err jerr;
    uint8_t *volatile pixels = NULL; // assigned after setjmp, freed on the error path
    *out_pixels = NULL;
    cinfo.err = jpeg_std_error(&jerr.pub);
    jerr.pub.error_exit = shim_error_exit;
    jerr.pub.output_message = shim_output_message;
    if (setjmp(jerr.jb)) {
        copy_message((j_common_ptr)&cinfo, errbuf, errbuf_len);
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        return -1;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)len);
    jpeg_read_header(&cinfo, TRUE);
    cinfo.out_color_space = want_channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(&cinfo);
    int w = (int)cinfo.output_width, h = (int)cinfo.output_height, c = cinfo.output_components;
    if (c != want_channels) {
        snprintf(errbuf, errbuf_len, "decoder produced %d channels, expected %d", c, want_channels);
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }
    pixels = (uint8_t *)malloc((size_t)w * (size_t)h * (size_t)c);
    if (!pixels) {
        snprintf(errbuf, errbuf_len, "out of memory for a %dx%d image", w, h);
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = pixels + (size_t)cinfo.output_scanline * (size_t)w * (size_t)c;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
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
    cinfo.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&cinfo);
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
