/* capget/capset directly: libcap is not needed for one bit. */
#include "caps.h"

#include <linux/capability.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

void caps_raise(int cap)
{
    struct __user_cap_header_struct head = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
    const uint32_t bit = 1u << (cap % 32);
    const int word = cap / 32;

    if (cap < 0 || word >= _LINUX_CAPABILITY_U32S_3 || syscall(SYS_capget, &head, data) == -1 ||
        !(data[word].permitted & bit) || (data[word].effective & bit))
        return;
    data[word].effective |= bit;
    (void)syscall(SYS_capset, &head, data);
}
