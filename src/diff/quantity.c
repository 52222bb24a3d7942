/*
 * quantity.c - Kubernetes resource.Quantity canonical form (what a
 * quantity reads as after the API server, or Argo CD's remarshal, has
 * round-tripped it): values are kept in nano units (sub-nano precision is
 * rounded away from zero, as ParseQuantity does) in 128-bit integers;
 * magnitudes above 1e36 nano units are refused (left untouched by callers).
 */
#include <stdio.h>
#include <string.h>

#include "diff/diff.h"
#include "util/xalloc.h"

typedef unsigned __int128 u128;

#define QLIMIT ((u128)1000000000000000000ULL * (u128)1000000000000000000ULL) /* 1e36 */

enum qfmt { Q_DECIMAL_SI, Q_BINARY_SI, Q_DECIMAL_EXP };

static int mul_ok(u128 *v, u128 m)
{
	if (*v && m > QLIMIT / *v)
		return 0;
	*v *= m;
	return *v <= QLIMIT;
}

static void put_u128(char *out, size_t n, u128 v)
{
	char tmp[48];
	size_t i = 0, j;
	do {
		tmp[i++] = (char)('0' + (int)(v % 10));
		v /= 10;
	} while (v && i < sizeof(tmp));
	for (j = 0; j < i && j + 1 < n; j++)
		out[j] = tmp[i - 1 - j];
	out[j] = 0;
}

/* parse; 0 on success */
static int parse(const char *s, int *neg, u128 *nano, enum qfmt *fmt)
{
	const char *p = s;
	u128 digits = 0;
	int ndig = 0, frac = 0, seen_dot = 0, exp10 = 0, bin = 0;

	*neg = 0;
	if (*p == '+' || *p == '-')
		*neg = *p++ == '-';
	for (; *p; p++) {
		if (*p == '.') {
			if (seen_dot)
				return -1;
			seen_dot = 1;
			continue;
		}
		if (*p < '0' || *p > '9')
			break;
		ndig++;
		if (digits == 0 && *p == '0') {
			if (seen_dot)
				frac++;
			continue;
		}
		if (!mul_ok(&digits, 10))
			return -1;
		digits += (u128)(*p - '0');
		if (seen_dot)
			frac++;
	}
	if (!ndig)
		return -1;
	*fmt = Q_DECIMAL_SI;
	if (!*p) {
		exp10 = 0;
	} else if (p[1] == 'i' && !p[2]) {
		const char *bs = "KMGTPE", *q = strchr(bs, p[0]);
		if (!q || !p[0])
			return -1;
		bin = (int)(q - bs) + 1;
		*fmt = Q_BINARY_SI;
	} else if ((p[0] == 'e' || p[0] == 'E') && p[1]) {
		const char *q = p + 1;
		int esign = 1, ev = 0, nd = 0;
		if (*q == '+' || *q == '-')
			esign = *q++ == '-' ? -1 : 1;
		for (; *q >= '0' && *q <= '9'; q++, nd++) {
			ev = ev * 10 + (*q - '0');
			if (ev > 1000)
				return -1;
		}
		if (!nd || *q)
			return -1;
		exp10 = esign * ev;
		*fmt = Q_DECIMAL_EXP;
	} else if (!p[1]) {
		switch (p[0]) {
		case 'n': exp10 = -9; break;
		case 'u': exp10 = -6; break;
		case 'm': exp10 = -3; break;
		case 'k': exp10 = 3; break;
		case 'M': exp10 = 6; break;
		case 'G': exp10 = 9; break;
		case 'T': exp10 = 12; break;
		case 'P': exp10 = 15; break;
		case 'E': exp10 = 18; break;
		default: return -1;
		}
	} else {
		return -1;
	}
	/* value = digits * 10^(exp10 - frac) * 1024^bin, in nano units: +9 */
	{
		int e = exp10 - frac + 9, i;
		u128 v = digits;
		for (i = 0; i < bin; i++)
			if (!mul_ok(&v, 1024))
				return -1;
		if (v == 0) {
			*nano = 0;
			return 0;
		}
		if (e >= 0) {
			for (i = 0; i < e; i++)
				if (!mul_ok(&v, 10))
					return -1;
		} else {
			int rem = 0;
			for (i = 0; i < -e && v; i++) {
				if (v % 10)
					rem = 1;
				v /= 10;
			}
			if (i < -e && !v)
				rem = 1;
			v += (u128)rem; /* round away from zero */
		}
		*nano = v;
	}
	return 0;
}

char *fy_diff_quantity_canonical(const char *s)
{
	int neg;
	u128 v;
	enum qfmt fmt;
	char num[64], out[96];
	const char *sign;

	if (!s || strlen(s) > 64 || parse(s, &neg, &v, &fmt))
		return NULL;
	if (v == 0)
		return fy_xstrdup("0");
	sign = neg ? "-" : "";
	if (fmt == Q_BINARY_SI) {
		if (v < (u128)1024 * 1000000000u || v % 1000000000u)
			fmt = Q_DECIMAL_SI;
	}
	if (fmt == Q_BINARY_SI) {
		static const char *const bsuf[] = { "", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei" };
		u128 n = v / 1000000000u;
		int k = 0;
		while (k < 6 && n % 1024 == 0) {
			n /= 1024;
			k++;
		}
		put_u128(num, sizeof(num), n);
		snprintf(out, sizeof(out), "%s%s%s", sign, num, bsuf[k]);
		return fy_xstrdup(out);
	}
	{
		int e = -9, r;
		u128 m = v;
		while (m % 10 == 0) {
			m /= 10;
			e++;
		}
		r = ((e % 3) + 3) % 3;
		while (r-- > 0) {
			m *= 10;
			e--;
		}
		put_u128(num, sizeof(num), m);
		if (fmt == Q_DECIMAL_EXP) {
			if (e == 0)
				snprintf(out, sizeof(out), "%s%s", sign, num);
			else
				snprintf(out, sizeof(out), "%s%se%d", sign, num, e);
		} else {
			const char *suf = NULL;
			switch (e) {
			case -9: suf = "n"; break;
			case -6: suf = "u"; break;
			case -3: suf = "m"; break;
			case 0: suf = ""; break;
			case 3: suf = "k"; break;
			case 6: suf = "M"; break;
			case 9: suf = "G"; break;
			case 12: suf = "T"; break;
			case 15: suf = "P"; break;
			case 18: suf = "E"; break;
			}
			if (suf)
				snprintf(out, sizeof(out), "%s%s%s", sign, num, suf);
			else
				snprintf(out, sizeof(out), "%s%se%d", sign, num, e);
		}
	}
	return fy_xstrdup(out);
}
