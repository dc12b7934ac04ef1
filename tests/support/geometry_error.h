/* How far a decoded direction or rotation is from the one encoded: the error
 * measures the unit and fuzz tests of bitpack geometry compare with the
 * published bounds (NETCORE_UNIT_VEC_MAX_ERROR_RAD, NETCORE_QUAT_MAX_ERROR_RAD).
 * Header only, so fuzz targets use it without the Criterion support library. */
#ifndef NETCORE_TESTS_GEOMETRY_ERROR_H
#define NETCORE_TESTS_GEOMETRY_ERROR_H

#include <math.h>

#include "netcore/bitpack.h"

/* Angle in radians between two directions (b of unit length). */
static inline double vec_angle(const netcore_vec3 *a, const netcore_vec3 *b)
{
    double ax = a->x, ay = a->y, az = a->z;
    double cx = ay * b->z - az * b->y, cy = az * b->x - ax * b->z, cz = ax * b->y - ay * b->x;
    return atan2(sqrt(cx * cx + cy * cy + cz * cz), ax * b->x + ay * b->y + az * b->z);
}

/* Rotation angle in radians between a (any length) and unit b; q and -q
 * alike. The chord form stays accurate for tiny angles, where acos of the
 * dot product would round to zero. */
static inline double quat_angle(const netcore_quat *a, const netcore_quat *b)
{
    double av[4] = {a->x, a->y, a->z, a->w};
    double bv[4] = {b->x, b->y, b->z, b->w};
    double norm = sqrt(av[0] * av[0] + av[1] * av[1] + av[2] * av[2] + av[3] * av[3]);
    double dot = 0.0;
    for (int k = 0; k < 4; k++)
        dot += av[k] / norm * bv[k];
    double sign = dot < 0.0 ? -1.0 : 1.0;
    double chord2 = 0.0;
    for (int k = 0; k < 4; k++) {
        double d = sign * av[k] / norm - bv[k];
        chord2 += d * d;
    }
    return 4.0 * asin(fmin(1.0, sqrt(chord2) / 2.0));
}

#endif
