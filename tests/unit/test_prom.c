/* Prometheus exposition tests: families, samples, and escaping of help text and label values. */
#include "export/prom.h"
#include "test.h"

static void test_render(void)
{
    struct buf b;
    struct prom_label l[2] = {{"direction", "in", false}, {"name", "a\"b\\c\nd", false}};

    buf_init(&b, 4096);
    CHECK_EQ(prom_family(&b, "x_total", "counter", "Help with \\ and\nnewline."), 0);
    CHECK_EQ(prom_sample_u64(&b, "x_total", l, 2, 18446744073709551615ULL), 0);
    CHECK_EQ(prom_sample_u64(&b, "x_total", NULL, 0, 0), 0);
    CHECK_EQ(prom_sample_double(&b, "y", NULL, 0, 0.25), 0);
    CHECK_EQ(prom_sample_double(&b, "y", NULL, 0, 1.0 / 0.0), 0);
    CHECK_STR(b.data, "# HELP x_total Help with \\\\ and\\nnewline.\n"
                      "# TYPE x_total counter\n"
                      "x_total{direction=\"in\",name=\"a\\\"b\\\\c\\nd\"} 18446744073709551615\n"
                      "x_total 0\n"
                      "y 0.25\n"
                      "y +Inf\n");
    buf_free(&b);
}

int main(void)
{
    RUN(test_render);
    return test_report();
}
