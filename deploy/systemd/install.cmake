# The systemd unit and /etc/default/nstats, for cmake --install (install(SCRIPT) in
# CMakeLists.txt, which sets NSTATS_SYSTEMD_DIR and NSTATS_BINARY_DIR). This runs at install
# time, not when configuring, because the prefix is only known then (cmake --install --prefix,
# make install PREFIX=) and the unit's ExecStart must name the binary installed under it.
string(REGEX REPLACE "(.)/+$" "\\1" prefix "${CMAKE_INSTALL_PREFIX}")

# The unit goes under the prefix: systemd reads /usr/lib/systemd/system and
# /usr/local/lib/systemd/system alike. (Not /lib/systemd/system for /usr, though Debian's
# systemd.pc names it: in a DESTDIR that makes a real lib/ directory, and unpacking such a tree
# over a merged-/usr root would replace the /lib symlink.)
set(unit_dir ${prefix}/lib/systemd/system)
set(NSTATS_BINARY ${prefix}/bin/nstats)
configure_file(${NSTATS_SYSTEMD_DIR}/nstats.service.in ${NSTATS_BINARY_DIR}/nstats.service
               @ONLY)
file(INSTALL ${NSTATS_BINARY_DIR}/nstats.service DESTINATION ${unit_dir}
     PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

# The settings are the administrator's: the commented examples are installed (0644, as
# install -m 0644 would) only where there is no file yet, never over one.
if(EXISTS "$ENV{DESTDIR}/etc/default/nstats")
  message(STATUS "Keeping: $ENV{DESTDIR}/etc/default/nstats (existing settings)")
else()
  file(INSTALL ${NSTATS_SYSTEMD_DIR}/nstats.default DESTINATION /etc/default RENAME nstats
       PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
endif()
