# proxy_layer(<target> FOLDER <folder> SOURCES <files...> [LAYERS <targets...>] [LIBS <libs...>])
#
# One folder, one role, one static library. A layer sees its own folder and the folders of the
# layers it names, and nothing else: its include path is a directory holding links to exactly
# those folders. An #include that points upwards (or into a layer it does not name) does not
# resolve, so the build fails. Layers are linked PRIVATE: whoever includes a layer's headers
# names that layer itself.
function(proxy_layer target)
  cmake_parse_arguments(L "" "FOLDER" "SOURCES;LAYERS;LIBS" ${ARGN})
  add_library(${target} STATIC ${L_SOURCES})
  set(view "${CMAKE_BINARY_DIR}/layers/${target}")
  file(MAKE_DIRECTORY "${view}")
  file(CREATE_LINK "${CMAKE_SOURCE_DIR}/${L_FOLDER}" "${view}/${L_FOLDER}" SYMBOLIC)
  target_include_directories(${target} PUBLIC "${view}")
  target_link_libraries(${target} PRIVATE ${L_LAYERS} PUBLIC ${L_LIBS})
endfunction()
