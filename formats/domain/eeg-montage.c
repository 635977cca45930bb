/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * eeg-montage.c - 10-20 / 10-10 electrode positions as spherical angles in the BESA
 * convention, and their azimuthal-equidistant projection.
 *
 * Convention (BESA spherical coordinates, as tabulated for the 10-20 and 10-10 caps by
 * BESA and used by EEGLAB's .elp files): theta is the angle from the vertex Cz, negative on
 * the left hemisphere; phi is the angle in the horizontal plane measured from the T7-T8
 * (left-right) axis, counter-clockwise seen from above for the right side. The equator of
 * the sphere runs through Fpz, T7, Oz and T8 (the "Fpz-T8-Oz-T7" head, as in EEGLAB), so a
 * 10 % step along the midline is 18 degrees (Fz at 45: the 20 % steps Fpz-Fz-Cz are 45 and
 * the 10-10 intermediates halve them). Iz, Nz, T9, T10 lie below the equator (112 deg).
 * Cartesian: x = sin(theta)cos(phi) (right), y = sin(theta)sin(phi) (nose), z = cos(theta).
 * Projection (azimuthal equidistant, as MNE's _auto_topomap_coords with to_sphere): the 2-D
 * radius is the colatitude / 90 deg along the electrode's azimuth, so the equator maps onto
 * the unit head circle.
 */
#include "xai/domain-eeg.h"

#include <ctype.h>
#include <math.h>
#include <string.h>

typedef struct {
    const char *name;
    double theta, phi; /* degrees, BESA convention */
} pos;

static const pos table[] = {
    /* midline */
    {"Nz", 112, 90},   {"Fpz", 90, 90},   {"AFz", 67, 90},   {"Fz", 45, 90},
    {"FCz", 23, 90},   {"Cz", 0, 0},      {"CPz", 23, -90},  {"Pz", 45, -90},
    {"POz", 67, -90},  {"Oz", 90, -90},   {"Iz", 112, -90},
    /* left hemisphere */
    {"Fp1", -90, -72}, {"AF7", -90, -54}, {"AF3", -74, -65}, {"F9", -112, -36},
    {"F7", -90, -36},  {"F5", -72, -41},  {"F3", -60, -51},  {"F1", -49, -68},
    {"FT9", -112, -18}, {"FT7", -90, -18}, {"FC5", -72, -21}, {"FC3", -51, -22},
    {"FC1", -32, -45}, {"T9", -112, 0},   {"T7", -90, 0},    {"C5", -68, 0},
    {"C3", -45, 0},    {"C1", -23, 0},    {"TP9", -112, 18}, {"TP7", -90, 18},
    {"CP5", -72, 21},  {"CP3", -51, 22},  {"CP1", -32, 45},  {"P9", -112, 36},
    {"P7", -90, 36},   {"P5", -72, 41},   {"P3", -60, 51},   {"P1", -49, 68},
    {"PO7", -90, 54},  {"PO3", -74, 65},  {"O1", -90, 72},
    /* below the equator (10-10 / 10-05 inferior row, as F9/T9/P9) */
    {"AF9", -112, -54}, {"PO9", -112, 54}, {"O9", -112, 72},
    /* right hemisphere (mirror images) */
    {"Fp2", 90, 72},   {"AF8", 90, 54},   {"AF4", 74, 65},   {"F10", 112, 36},
    {"F8", 90, 36},    {"F6", 72, 41},    {"F4", 60, 51},    {"F2", 49, 68},
    {"FT10", 112, 18}, {"FT8", 90, 18},   {"FC6", 72, 21},   {"FC4", 51, 22},
    {"FC2", 32, 45},   {"T10", 112, 0},   {"T8", 90, 0},     {"C6", 68, 0},
    {"C4", 45, 0},     {"C2", 23, 0},     {"TP10", 112, -18}, {"TP8", 90, -18},
    {"CP6", 72, -21},  {"CP4", 51, -22},  {"CP2", 32, -45},  {"P10", 112, -36},
    {"P8", 90, -36},   {"P6", 72, -41},   {"P4", 60, -51},   {"P2", 49, -68},
    {"PO8", 90, -54},  {"PO4", 74, -65},  {"O2", 90, -72},
    {"AF10", 112, 54}, {"PO10", 112, -54}, {"O10", 112, -72},
};

#define NPOS ((int)(sizeof table / sizeof table[0]))

static const struct {
    const char *old_name, *new_name;
} aliases[] = {{"T3", "T7"}, {"T4", "T8"}, {"T5", "P7"}, {"T6", "P8"}};

/* canonical key: letters and digits only, upper case */
static void key(const char *s, char *out, size_t cap)
{
    size_t n = 0;
    for (; s && *s && n + 1 < cap; s++)
        if (isalnum((unsigned char)*s))
            out[n++] = (char)toupper((unsigned char)*s);
    out[n] = '\0';
}

int xai_eeg_montage_count(void) { return NPOS; }

const char *xai_eeg_montage_name(int i) { return i >= 0 && i < NPOS ? table[i].name : NULL; }

int xai_eeg_montage_find(const char *label, double xyz[3], double xy[2])
{
    char k[24], t[24];
    key(label, k, sizeof k);
    for (size_t a = 0; a < sizeof aliases / sizeof aliases[0]; a++)
        if (strcmp(k, aliases[a].old_name) == 0) {
            key(aliases[a].new_name, k, sizeof k);
            break;
        }
    for (int i = 0; i < NPOS; i++) {
        key(table[i].name, t, sizeof t);
        if (strcmp(k, t) != 0)
            continue;
        const double d2r = 3.14159265358979323846 / 180.0;
        double th = table[i].theta * d2r, ph = table[i].phi * d2r;
        if (xyz) {
            xyz[0] = sin(th) * cos(ph);
            xyz[1] = sin(th) * sin(ph);
            xyz[2] = cos(th);
        }
        if (xy) {
            xy[0] = table[i].theta / 90.0 * cos(ph);
            xy[1] = table[i].theta / 90.0 * sin(ph);
        }
        return 0;
    }
    return -1;
}
