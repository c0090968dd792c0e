# SPDX-License-Identifier: MIT
# Writes calx.pc at install time (CMakeLists.txt runs it from install(CODE)),
# for the prefix being installed into: CMAKE_INSTALL_PREFIX here is the one
# `cmake --install --prefix P` or `make install PREFIX=P` gave, which the
# configure step never saw. DESTDIR is left out on purpose: a staged tree
# (make install DESTDIR=/tmp/stage) is moved under the prefix before use.
#
# In: CALX_PC_IN, CALX_PC_OUT, CALX_PC_LIBDIR, CALX_PC_INCLUDEDIR (relative
# to the prefix, or absolute), CALX_PC_VERSION, CALX_PC_REQUIRES (the
# pkg-config modules of the backends built).
set(calx_pc_prefix "${CMAKE_INSTALL_PREFIX}")
foreach(dir LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CALX_PC_${dir}}")
    set(calx_pc_${dir} "${CALX_PC_${dir}}")
  else()
    # Kept relative to ${prefix} in the file, as pkg-config files are.
    set(calx_pc_${dir} "\${prefix}/${CALX_PC_${dir}}")
  endif()
endforeach()
configure_file("${CALX_PC_IN}" "${CALX_PC_OUT}" @ONLY)
