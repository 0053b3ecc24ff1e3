# ww_embed(OUT_C SYMBOL FILE): generate a C file defining
#   const unsigned char SYMBOL[]; const size_t SYMBOL_len;
# from FILE at build time, so data (e.g. the manylinux policy tables) stays
# data in the repo yet needs no install path at run time.
function(ww_embed out_c symbol file)
  add_custom_command(
    OUTPUT ${out_c}
    COMMAND ${CMAKE_COMMAND} -DIN=${file} -DOUT=${out_c} -DSYM=${symbol}
            -P ${CMAKE_SOURCE_DIR}/cmake/WWEmbedRun.cmake
    DEPENDS ${file} ${CMAKE_SOURCE_DIR}/cmake/WWEmbedRun.cmake
    COMMENT "Embedding ${file} as ${symbol}")
endfunction()
